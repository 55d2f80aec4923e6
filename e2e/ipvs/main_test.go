package ipvse2e

import (
	"os"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/vm"
)

// TestMain runs the tests in a new network namespace of their own (as
// `unshare -n` does, framework.MainInNetns): kcluster listens in that
// namespace, QEMU's relays connect to its 127.0.0.1, and nothing touches
// the host's network namespace. In there loopback is up and carries
// apiserverIP, the address the guest (and the kubeconfig kcluster writes)
// uses for the apiserver.
func TestMain(m *testing.M) {
	os.Exit(framework.MainInNetns(m, framework.NetnsMain{
		Name: "ipvs e2e",
		Skip: skipReason(),
		Setup: func() error {
			return framework.IPCommands([]string{"link", "set", "lo", "up"}, []string{"addr", "add", apiserverIP + "/32", "dev", "lo"})
		},
		Teardown: stopEnv,
	}))
}

// skipReason says why the tests cannot run here, or "" when they can.
func skipReason() string {
	if os.Getenv(framework.EnvEnable) != "1" {
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
