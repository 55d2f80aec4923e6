package deploy

import (
	"os"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
)

// TestMain runs the tests in a new network namespace of their own (as
// `unshare -n` does, framework.MainInNetns) with its loopback up; the
// control plane they start listens on that namespace's 127.0.0.1 only.
func TestMain(m *testing.M) {
	os.Exit(framework.MainInNetns(m, framework.NetnsMain{
		Name:     "deploy e2e",
		Skip:     skipReason(),
		Setup:    func() error { return framework.IPCommands([]string{"link", "set", "lo", "up"}) },
		Teardown: stopSharedCluster,
	}))
}

// skipReason says why the tests cannot run here, or "" when they can.
func skipReason() string {
	if os.Getenv(framework.EnvEnable) != "1" {
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
