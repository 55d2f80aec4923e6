package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a program the framework started inside a network namespace
// with `ip netns exec`. Its standard output and error go to a log file; the
// first stdout line starting with a watched prefix is remembered.
type Process struct {
	// Name identifies the process in logs, e.g. "kproxy node-1".
	Name string
	// NetNS is the namespace it runs in.
	NetNS string
	// LogPath is the file holding its output.
	LogPath string

	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // exit status, valid once done is closed

	watch   string
	matched chan string
}

// startProcess runs argv inside ns. watch, when not empty, is a stdout line
// prefix WaitLine waits for. The process is killed if the test process dies
// (Pdeathsig, unless KPROXY_E2E_KEEP=1) and runs in its own process group so
// Stop reaches its children.
func startProcess(name, ns, logPath, watch string, env []string, argv ...string) (*Process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := &Process{Name: name, NetNS: ns, LogPath: logPath, log: log, done: make(chan struct{}), watch: watch, matched: make(chan string, 1)}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &lineWatcher{out: log, prefix: watch, matched: p.matched}
	p.cmd.Stderr = log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Getenv(EnvKeep) == "1" {
		// Kept clusters keep their processes after the test process ends.
		p.cmd.SysProcAttr.Pdeathsig = 0
	}
	// A child that keeps stdout open must not block Wait forever.
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (that of the program itself: ip netns exec execs it).
func (p *Process) Pid() int {
	return p.cmd.Process.Pid
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitLine waits for the watched stdout line and returns it. It fails when
// the process exits first or timeout passes, quoting the end of its log.
func (p *Process) WaitLine(timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line := <-p.matched:
		return line, nil
	case <-p.done:
		select {
		case line := <-p.matched:
			return line, nil
		default:
		}
		return "", fmt.Errorf("%s exited (%v) before printing %q; log:\n%s", p.Name, p.err, p.watch, p.LogTail(40))
	case <-timer.C:
		return "", fmt.Errorf("%s did not print %q within %v; log:\n%s", p.Name, p.watch, timeout, p.LogTail(40))
	}
}

// Stop sends SIGTERM to the process group, waits up to grace, then kills it
// (at once when grace is 0). It fails only if the process survives SIGKILL.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	if grace > 0 {
		_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
		select {
		case <-p.done:
			return nil
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL for 5s", p.Name, p.Pid())
	}
}

// Log returns the whole log.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(log %s: %v)", p.LogPath, err)
	}
	return string(b)
}

// LogTail returns the last n lines of the log.
func (p *Process) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ExitErr returns how the process ended, or an error if it still runs.
func (p *Process) ExitErr() error {
	if !p.Exited() {
		return errors.New("still running")
	}
	return p.err
}

// lineWatcher copies output to out and sends the first complete line that
// starts with prefix to matched.
type lineWatcher struct {
	out     *os.File
	prefix  string
	matched chan string
	mu      sync.Mutex
	partial []byte
	found   bool
}

// Write implements io.Writer.
func (w *lineWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.prefix != "" && !w.found {
		w.partial = append(w.partial, b...)
		for !w.found {
			i := bytes.IndexByte(w.partial, '\n')
			if i < 0 {
				break
			}
			line := string(w.partial[:i])
			w.partial = w.partial[i+1:]
			if strings.HasPrefix(line, w.prefix) {
				w.found = true
				w.partial = nil
				w.matched <- line
			}
		}
	}
	return w.out.Write(b)
}
