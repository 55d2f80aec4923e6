package deploy

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

// Environment variables the tests read.
const (
	// envEnable must be "1" for the tests to run.
	envEnable = "KPROXY_E2E"
	// envBinDir is where kcluster is found (default <repo>/_output/bin).
	envBinDir = "KPROXY_BIN_DIR"
	// envHostNetns is set on the re-executed test binary to the host's network
	// namespace (the /proc/self/ns/net link), so it can check it left it.
	envHostNetns = "KPROXY_DEPLOY_HOST_NETNS"
)

// TestMain re-executes the test binary in a new network namespace (as
// `unshare -n` does), brings its loopback up, and runs the tests there; the
// control plane they start listens on that namespace's 127.0.0.1 only.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain returns the exit code of the tests.
func runMain(m *testing.M) int {
	if skipReason() != "" {
		return m.Run() // every test skips with the reason
	}
	host := os.Getenv(envHostNetns)
	if host == "" {
		return runInNewNetns()
	}
	if err := setUpNetns(host); err != nil {
		fmt.Fprintf(os.Stderr, "deploy e2e: %v\n", err)
		return 1
	}
	code := m.Run()
	stopSharedCluster(code != 0)
	return code
}

// skipReason says why the tests cannot run here, or "" when they can.
func skipReason() string {
	if os.Getenv(envEnable) != "1" {
		return "deploy e2e test: set KPROXY_E2E=1 (and run as root) to start a real kube-apiserver in a throwaway network namespace"
	}
	if os.Geteuid() != 0 {
		return "deploy e2e test: needs root to create a network namespace; run `sudo KPROXY_E2E=1 go test ./e2e/deploy`"
	}
	return ""
}

// requireE2E skips the test unless it may run.
func requireE2E(t *testing.T) {
	t.Helper()
	if reason := skipReason(); reason != "" {
		t.Skip(reason)
	}
}

// runInNewNetns runs this test binary again, with the same arguments, in a new
// network namespace, and returns its exit code. The child dies with this
// process (Pdeathsig) and gets the signals this process receives.
func runInNewNetns() int {
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		fmt.Fprintf(os.Stderr, "deploy e2e: %v\n", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "deploy e2e: %v\n", err)
		return 1
	}
	// Pdeathsig fires when the thread that started the child ends: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), envHostNetns+"="+host)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "deploy e2e: cannot start the test binary in a new network namespace: %v\n", err)
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
	default:
		fmt.Fprintf(os.Stderr, "deploy e2e: test binary in the network namespace: %v\n", err)
		return 1
	}
}

// forwardSignals passes SIGINT and SIGTERM on to p until the returned func is called.
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

// setUpNetns checks that this process is no longer in the host's network
// namespace and brings the loopback interface up.
func setUpNetns(host string) error {
	here, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if here == host {
		return fmt.Errorf("still in the host network namespace %s; refusing to start a control plane there", host)
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	return nil
}
