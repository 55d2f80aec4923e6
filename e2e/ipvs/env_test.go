package ipvse2e

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/vm"
)

// Addresses of the control plane as the guest sees it.
const (
	// apiserverIP is the guest's forward to the host (QEMU's user network,
	// see vm.Config.HostForwards). kcluster advertises it, so it is in the
	// serving certificate and the kubeconfig; the test process reaches it
	// because setUpNetns puts it on loopback.
	apiserverIP = "10.0.2.100"
	// apiserverPort is kcluster's port, on every address of the test's own
	// network namespace.
	apiserverPort = 6443
)

// env is what the tests share: one control plane and the programs copied
// into every guest. It is built by the first test that needs it and torn
// down by TestMain.
type env struct {
	cp *framework.KCluster
	// kproxy, kpecho (e2e/echo) and kpguest (./guest) are static programs
	// on the host.
	kproxy, kpecho, kpguest string
	dir                     string
}

var (
	envOnce   sync.Once
	sharedEnv *env
	envErr    error
)

// getEnv returns the shared environment, building it on first use; it
// skips the test unless e2e tests may run.
func getEnv(t *testing.T) *env {
	t.Helper()
	requireE2E(t)
	envOnce.Do(func() { sharedEnv, envErr = newEnv() })
	if envErr != nil {
		t.Fatalf("test environment: %v", envErr)
	}
	return sharedEnv
}

// newEnv starts kcluster and builds kpguest at the same time; kproxy and
// kpecho (e2e/echo) are taken from the binary directory.
func newEnv() (*env, error) {
	bins, err := framework.BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kpipvs-")
	if err != nil {
		return nil, err
	}
	e := &env{
		dir:     dir,
		kproxy:  filepath.Join(bins, "kproxy"),
		kpecho:  filepath.Join(bins, "echo"),
		kpguest: filepath.Join(dir, "kpguest"),
	}
	errs := []error{staticBinary(e.kproxy), staticBinary(e.kpecho), nil, nil}
	if err := errors.Join(errs...); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("%w (build them with `make binaries`, or set %s)", err, framework.EnvBinDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { errs[2] = vm.BuildStatic(ctx, "./e2e/ipvs/guest", e.kpguest) })
	wg.Go(func() { e.cp, errs[3] = startControlPlane(filepath.Join(dir, "kcluster")) })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.stop(true)
		return nil, err
	}
	return e, nil
}

// staticBinary checks that path is a statically linked ELF program (it has
// no program interpreter), which the guest can run as it is.
func staticBinary(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("guest program: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("guest program %s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// stopEnv tears the shared environment down, if one was built.
func stopEnv(failed bool) {
	if sharedEnv != nil {
		sharedEnv.stop(failed)
	}
}

// outage kills the shared kcluster (SIGKILL), keeps it down for down and
// starts it again on the same data, address and credentials; it returns
// when the API server was killed and when it was ready again. From then on
// e.cp is the new process; clients of the old one keep working.
func (e *env) outage(t *testing.T, down time.Duration) (killed, back time.Time) {
	t.Helper()
	e.cp.Kill()
	killed = time.Now()
	time.Sleep(down)
	cp, err := startControlPlane(filepath.Join(e.dir, "kcluster"))
	if err != nil {
		t.Fatalf("restarting the shared control plane after the outage: %v", err)
	}
	e.cp = cp
	return killed, time.Now()
}

// stop ends kcluster, printing its log's tail first when tests failed, and
// removes the binaries.
func (e *env) stop(failed bool) {
	if e.cp != nil {
		if failed {
			fmt.Fprintf(os.Stderr, "--- kcluster log (tail) %s\n%s\n", e.cp.LogPath, e.cp.LogTail(40))
		}
		e.cp.Stop()
	}
	_ = os.RemoveAll(e.dir)
}
