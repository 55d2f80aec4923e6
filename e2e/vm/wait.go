package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kill stops the VM at once; Wait then reports the VM as killed.
func (v *VM) Kill() {
	v.cancel()
	<-v.done
}

// Output returns what the script has written so far.
func (v *VM) Output() string {
	out, _, _ := v.readOutput()
	return out
}

// WaitFor blocks until the script's output contains substr, the VM stops,
// or ctx ends.
func (v *VM) WaitFor(ctx context.Context, substr string) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if strings.Contains(v.Output(), substr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q in the VM's output: %w", substr, ctx.Err())
		case <-v.done:
			if strings.Contains(v.Output(), substr) {
				return nil
			}
			return fmt.Errorf("VM stopped before printing %q%s", substr, v.diagnosis())
		case <-t.C:
		}
	}
}

// Wait blocks until the VM has powered off and returns the script's
// output. The error is an *ExitError when the script failed, and a plain
// error when the VM died, was killed or timed out before it finished.
func (v *VM) Wait() (string, error) {
	<-v.done
	out, code, finished := v.readOutput()
	switch {
	case !finished:
		return out, fmt.Errorf("VM stopped before the script finished (%s)%s", v.why(), v.diagnosis())
	case code != 0:
		return out, &ExitError{Code: code, Output: out}
	}
	return out, nil
}

// ExitError reports a script that exited with a non-zero status.
type ExitError struct {
	Code   int
	Output string
}

// Error says how the script ended and quotes its output.
func (e *ExitError) Error() string {
	return fmt.Sprintf("guest script exited with status %d; output:\n%s", e.Code, e.Output)
}

// waitReady polls the output log until /init announces the script, QEMU
// exits, or the timeout kills it.
func (v *VM) waitReady() error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if v.ready() {
			v.BootTime = time.Since(v.started)
			return nil
		}
		select {
		case <-v.done:
			if v.ready() {
				v.BootTime = time.Since(v.started)
				return nil
			}
			return fmt.Errorf("VM did not boot (%s)%s", v.why(), v.diagnosis())
		case <-t.C:
		}
	}
}

// ready reports whether /init has started the script.
func (v *VM) ready() bool {
	b, _ := os.ReadFile(filepath.Join(v.Dir, "output.log"))
	return strings.Contains(string(b), readyMarker)
}

// why says how QEMU ended: killed for the timeout or the caller's context,
// or its own exit status.
func (v *VM) why() string {
	switch {
	case errors.Is(v.ctx.Err(), context.DeadlineExceeded) && time.Since(v.started) >= v.timeout:
		return fmt.Sprintf("timed out after %v", v.timeout)
	case v.ctx.Err() != nil && v.waitErr != nil:
		return fmt.Sprintf("killed: %v", v.ctx.Err())
	case v.waitErr != nil:
		return fmt.Sprintf("qemu: %v", v.waitErr)
	}
	return "qemu exited"
}

// diagnosis points at the logs and quotes the end of the console and of
// QEMU's messages, so a failure is understandable from the test log alone.
func (v *VM) diagnosis() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nlogs in %s", v.Dir)
	for _, name := range []string{"qemu.log", "console.log"} {
		data, _ := os.ReadFile(filepath.Join(v.Dir, name))
		if tail := lastLines(string(data), 15); tail != "" {
			fmt.Fprintf(&b, "\n--- %s (tail) ---\n%s", name, tail)
		}
	}
	return b.String()
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
