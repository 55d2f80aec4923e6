package iptables_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// envNetns marks the copy of the test binary that runs in a throwaway
// network namespace; it holds the parent's namespace, to check we left it.
const envNetns = "KPROXY_IPTABLES_TEST_PARENT_NETNS"

// TestMain re-runs the test binary under "unshare --net" when it runs as
// root, so the tests that touch the kernel's iptables only ever see a
// namespace of their own, which disappears when the binary exits. Without
// root or unshare the kernel tests skip.
func TestMain(m *testing.M) {
	if os.Getenv(envNetns) == "" && os.Geteuid() == 0 {
		if code, err := runInNetns(); err == nil {
			os.Exit(code)
		} else {
			fmt.Fprintf(os.Stderr, "kernel tests will skip: %v\n", err)
		}
	}
	os.Exit(m.Run())
}

func runInNetns() (int, error) {
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
	cmd.Env = append(os.Environ(), envNetns+"="+ns)
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

// requireNetns skips t unless it runs in the throwaway namespace.
func requireNetns(t testing.TB) {
	t.Helper()
	parent := os.Getenv(envNetns)
	if parent == "" {
		t.Skip("needs root and unshare: the kernel tests run in a throwaway network namespace")
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil || ns == parent {
		t.Fatalf("refusing to touch iptables: not in a new network namespace (%s, %v)", ns, err)
	}
}
