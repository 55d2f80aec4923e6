package ipvse2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"testing"

	"github.com/kproxy/kproxy/e2e/vm"
)

// Environment variables the tests read.
const (
	// envEnable must be "1" for the tests to run.
	envEnable = "KPROXY_E2E"
	// envBinDir is where kcluster is found (default <repo>/_output/bin).
	envBinDir = "KPROXY_BIN_DIR"
	// envHostNetns is set on the re-executed test binary to the host's
	// network namespace, so it can check that it left it.
	envHostNetns = "KPROXY_IPVS_E2E_HOST_NETNS"
)

// TestMain re-executes the test binary in a new network namespace (as
// `unshare -n` does) and runs the tests there: kcluster listens in that
// namespace, QEMU's relays connect to its 127.0.0.1, and nothing touches the
// host's network namespace.
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
		fmt.Fprintf(os.Stderr, "ipvs e2e: %v\n", err)
		return 1
	}
	code := m.Run()
	stopEnv(code != 0)
	return code
}

// skipReason says why the tests cannot run here, or "" when they can.
func skipReason() string {
	if os.Getenv(envEnable) != "1" {
		return "IPVS e2e test: set KPROXY_E2E=1 (and run as root) to boot the VM against a real kube-apiserver"
	}
	if os.Geteuid() != 0 {
		return "IPVS e2e test: needs root for a throwaway network namespace; run `sudo KPROXY_E2E=1 go test ./e2e/ipvs`"
	}
	if err := vm.Available(); err != nil {
		return "IPVS e2e test: cannot boot the test VM: " + err.Error()
	}
	return ""
}

// requireE2E skips the test unless it may run.
func requireE2E(t *testing.T) {
	t.Helper()
	if reason := skipReason(); reason != "" {
		t.Skip(reason)
	}
	if testing.Short() {
		t.Skip("boots a VM; skipped with -short")
	}
}

// runInNewNetns runs this test binary again, with the same arguments, in a
// new network namespace and returns its exit code. The child dies with this
// process and gets the signals this process receives.
func runInNewNetns() int {
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipvs e2e: %v\n", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipvs e2e: %v\n", err)
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
		fmt.Fprintf(os.Stderr, "ipvs e2e: cannot start the test binary in a new network namespace: %v\n", err)
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
	fmt.Fprintf(os.Stderr, "ipvs e2e: test binary in the network namespace: %v\n", err)
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

// setUpNetns checks that this process left the host's network namespace,
// brings loopback up and gives it apiserverIP, the address the guest (and
// the kubeconfig kcluster writes) uses for the apiserver.
func setUpNetns(host string) error {
	here, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if here == host {
		return fmt.Errorf("still in the host network namespace %s; refusing to start a control plane there", host)
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", apiserverIP + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %v: %s", args, err, out)
		}
	}
	return nil
}
