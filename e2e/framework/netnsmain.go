package framework

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
)

// envParentNetns is set on the re-executed test binary to the network
// namespace of its parent (the /proc/self/ns/net link), so it can check
// that it left it.
const envParentNetns = "KPROXY_E2E_PARENT_NETNS"

// NetnsMain says how MainInNetns runs a package's tests.
type NetnsMain struct {
	// Name prefixes its error messages, e.g. "ipvs e2e".
	Name string
	// Skip, when not empty, says why the tests cannot run: they then run
	// where they are, and skip.
	Skip string
	// Setup runs in the new namespace before the tests, e.g. to bring
	// loopback up.
	Setup func() error
	// Teardown runs in the new namespace after the tests.
	Teardown func(failed bool)
}

// MainInNetns is the body of a TestMain for e2e packages that run a control
// plane in a network namespace of their own (e2e/deploy, e2e/ipvs): it
// re-executes the test binary, with the same arguments, in a new network
// namespace (as `unshare -n` does) and returns its exit code. The copy dies
// with this process and gets the SIGINT and SIGTERM it receives; in there,
// MainInNetns checks that it left the parent's namespace, runs Setup, the
// tests and Teardown. Nothing touches the parent's namespace.
func MainInNetns(m *testing.M, o NetnsMain) int {
	if o.Skip != "" {
		return m.Run() // every test skips with the reason
	}
	parent := os.Getenv(envParentNetns)
	if parent == "" {
		return o.rerun()
	}
	if err := leftNetns(parent); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", o.Name, err)
		return 1
	}
	if o.Setup != nil {
		if err := o.Setup(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", o.Name, err)
			return 1
		}
	}
	code := m.Run()
	if o.Teardown != nil {
		o.Teardown(code != 0)
	}
	return code
}

// rerun runs the test binary again in a new network namespace and returns
// its exit code.
func (o NetnsMain) rerun() int {
	here, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", o.Name, err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", o.Name, err)
		return 1
	}
	// Pdeathsig fires when the thread that started the child ends: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), envParentNetns+"="+here)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot start the test binary in a new network namespace: %v\n", o.Name, err)
		return 1
	}
	stop := forwardSignals(cmd.Process)
	err = cmd.Wait()
	stop()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return exit.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "%s: test binary in the network namespace: %v\n", o.Name, err)
	return 1
}

// forwardSignals passes SIGINT and SIGTERM on to p until the returned func
// is called.
func forwardSignals(p *os.Process) func() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = p.Signal(s)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// leftNetns fails unless this process is in another network namespace than
// parent.
func leftNetns(parent string) error {
	here, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if here == parent {
		return fmt.Errorf("still in the parent's network namespace %s; refusing to start a control plane there", parent)
	}
	return nil
}

// IPCommands runs `ip` with each argument list in turn, in the current
// network namespace, e.g. to bring loopback up in MainInNetns's Setup.
func IPCommands(argLists ...[]string) error {
	for _, args := range argLists {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %v: %s", args, err, out)
		}
	}
	return nil
}
