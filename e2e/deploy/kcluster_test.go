package deploy

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
)

// The control plane is started by the first test that needs it and stopped
// by TestMain, so the tests share one (start-up is the slow part).
var (
	sharedOnce sync.Once
	shared     *framework.KCluster
	sharedDir  string
	sharedErr  error
)

// cluster returns the shared control plane, starting it if needed; it skips
// the test unless e2e tests may run.
func cluster(t *testing.T) *framework.KCluster {
	t.Helper()
	requireE2E(t)
	sharedOnce.Do(func() { shared, sharedErr = startControlPlane() })
	if sharedErr != nil {
		t.Fatalf("control plane: %v", sharedErr)
	}
	return shared
}

// startControlPlane starts kcluster on this namespace's 127.0.0.1:6443 with
// a fresh data directory and waits for its READY line.
func startControlPlane() (*framework.KCluster, error) {
	dir, err := os.MkdirTemp("", "kpdeploy-")
	if err != nil {
		return nil, err
	}
	sharedDir = dir
	return framework.StartKCluster(framework.KClusterOptions{
		Dir:         dir,
		BindAddress: "127.0.0.1",
		Port:        6443,
		UserAgent:   "kproxy-e2e-deploy",
		QPS:         100,
		Burst:       200,
	})
}

// stopSharedCluster stops the shared control plane, if one was started,
// printing the tail of its log first when the tests failed, and removes its
// data.
func stopSharedCluster(failed bool) {
	if shared != nil {
		if failed {
			fmt.Fprintf(os.Stderr, "--- kcluster log (tail) %s\n%s\n", shared.LogPath, shared.LogTail(40))
		}
		shared.Stop()
	}
	if sharedDir != "" {
		_ = os.RemoveAll(sharedDir)
	}
}
