// Package netnstest lets a test binary touch the kernel's network state safely: Main
// re-runs the binary under "unshare --net" when it runs as root, so its tests only ever
// see a network namespace of their own, which disappears when the binary exits; Require
// skips a test that is not inside such a namespace.
package netnstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// envParent marks the copy of the test binary that runs in a throwaway network
// namespace; it holds the parent's namespace, to check the copy left it.
const envParent = "KPROXY_TEST_PARENT_NETNS"

// Main is a TestMain: it re-runs the binary in a new network namespace when it can
// (root and unshare), and otherwise runs the tests where they are, where Require
// makes the kernel tests skip.
func Main(m *testing.M) {
	if os.Getenv(envParent) == "" && os.Geteuid() == 0 {
		code, err := rerun()
		if err == nil {
			os.Exit(code)
		}
		fmt.Fprintf(os.Stderr, "kernel tests will skip: %v\n", err)
	}
	os.Exit(m.Run())
}

// rerun runs this test binary again with the same arguments in a new network
// namespace and returns its exit code.
func rerun() (int, error) {
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
	cmd.Env = append(os.Environ(), envParent+"="+ns)
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

// Require skips tb unless it runs in the throwaway namespace, and refuses to go on if
// it somehow still is in the parent's.
func Require(tb testing.TB) {
	tb.Helper()
	parent := os.Getenv(envParent)
	if parent == "" {
		tb.Skip("needs root and unshare: kernel tests run in a throwaway network namespace")
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil || ns == parent {
		tb.Fatalf("refusing to touch the kernel: not in a new network namespace (%s, %v)", ns, err)
	}
}
