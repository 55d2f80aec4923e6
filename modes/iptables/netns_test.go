package iptablesmode

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// envParentNetns marks the copy of the test binary that runs in a throwaway
// network namespace; it holds the parent's namespace, to check we left it.
const envParentNetns = "KPROXY_IPTABLESMODE_PARENT_NETNS"

// TestMain re-runs the test binary under "unshare --net" when it runs as root, so
// the tests and benchmarks that use the kernel's iptables only ever see a network
// namespace of their own, which disappears when the binary exits. Without root
// or unshare they skip; every other test runs the same either way.
func TestMain(m *testing.M) {
	if os.Getenv(envParentNetns) == "" && os.Geteuid() == 0 {
		code, err := rerunInNetns()
		if err == nil {
			os.Exit(code)
		}
		fmt.Fprintf(os.Stderr, "real-kernel tests will skip: %v\n", err)
	}
	os.Exit(m.Run())
}

// rerunInNetns runs this test binary again with the same arguments in a new
// network namespace and returns its exit code.
func rerunInNetns() (int, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, err
	}
	if out, err := exec.Command(unshare, "--net", "true").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("unshare --net: %v: %s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(unshare, append([]string{"--net", "--", self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), envParentNetns+"="+ns)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	}
	return 0, err
}

// requireNetns skips unless the test runs in its own network namespace, and
// refuses to go on if it somehow still is in the parent's.
func requireNetns(tb testing.TB) {
	tb.Helper()
	parent := os.Getenv(envParentNetns)
	if parent == "" {
		tb.Skip("needs root and unshare: real-kernel tests run in a throwaway network namespace")
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil || ns == parent {
		tb.Fatalf("refusing to touch iptables: not in a new network namespace (%s, %v)", ns, err)
	}
}
