package deploy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// readyTimeout bounds kcluster's start; it is ready in 2-5 s on a quiet machine.
const readyTimeout = 3 * time.Minute

// controlPlane is a running kcluster: a real kube-apiserver and etcd.
type controlPlane struct {
	// Config and Admin talk to it as system:masters.
	Config *rest.Config
	Admin  kubernetes.Interface
	// ReadyAfter is how long it took to print READY.
	ReadyAfter time.Duration

	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// The control plane is started by the first test that needs it and stopped
// by TestMain, so the tests share one (start-up is the slow part).
var (
	sharedOnce sync.Once
	shared     *controlPlane
	sharedErr  error
)

// cluster returns the shared control plane, starting it if needed; it skips
// the test unless e2e tests may run.
func cluster(t *testing.T) *controlPlane {
	t.Helper()
	requireE2E(t)
	sharedOnce.Do(func() { shared, sharedErr = startControlPlane() })
	if sharedErr != nil {
		t.Fatalf("control plane: %v", sharedErr)
	}
	return shared
}

// stopSharedCluster stops the shared control plane, if one was started,
// printing the tail of its log first when the tests failed.
func stopSharedCluster(failed bool) {
	if shared == nil {
		return
	}
	if failed {
		fmt.Fprintf(os.Stderr, "--- kcluster log (tail) %s\n%s\n", shared.logPath, tail(shared.logPath, 40))
	}
	shared.stop()
}

// kclusterBinary returns $KPROXY_BIN_DIR/kcluster, else <repo>/_output/bin/kcluster.
func kclusterBinary() (string, error) {
	dir := os.Getenv(envBinDir)
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "_output", "bin")
	}
	path := filepath.Join(dir, "kcluster")
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s not found: build it with `cd hack/cluster && go build -o ../../_output/bin/kcluster .` (or `make binaries`), or set %s", path, envBinDir)
	}
	return path, nil
}

// startControlPlane starts kcluster on this namespace's 127.0.0.1:6443 with a
// fresh data directory and waits for its READY line.
func startControlPlane() (*controlPlane, error) {
	bin, err := kclusterBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kpdeploy-")
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{dir: dir, logPath: filepath.Join(dir, "kcluster.log"), exited: make(chan struct{})}
	kubeconfig := filepath.Join(dir, "admin.kubeconfig")
	ready, err := cp.start(bin, kubeconfig)
	if err != nil {
		cp.stop()
		return nil, err
	}
	if err := cp.waitReady(ready, kubeconfig); err != nil {
		err = fmt.Errorf("%w; log tail:\n%s", err, tail(cp.logPath, 30))
		cp.stop()
		return nil, err
	}
	return cp, nil
}

// start runs kcluster; the returned channel receives the kubeconfig path of
// its READY line.
func (cp *controlPlane) start(bin, kubeconfig string) (<-chan string, error) {
	log, err := os.Create(cp.logPath)
	if err != nil {
		return nil, err
	}
	cp.cmd = exec.Command(bin,
		"--bind-address", "127.0.0.1",
		"--secure-port", "6443",
		"--data-dir", filepath.Join(cp.dir, "data"),
		"--kubeconfig", kubeconfig,
		"--ready-timeout", readyTimeout.String(),
	)
	cp.cmd.Stderr = log
	stdout, err := cp.cmd.StdoutPipe()
	if err != nil {
		log.Close()
		return nil, err
	}
	cp.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cp.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ready := make(chan string, 1)
	go func() {
		watchReady(stdout, log, ready)
		_ = cp.cmd.Wait()
		log.Close()
		close(cp.exited)
	}()
	return ready, nil
}

// watchReady copies kcluster's stdout to log and sends the path of the first
// "READY <path>" line.
func watchReady(stdout io.Reader, log io.Writer, ready chan<- string) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(log, line)
		if path, ok := strings.CutPrefix(line, "READY "); ok {
			select {
			case ready <- strings.TrimSpace(path):
			default:
			}
		}
	}
}

// waitReady waits for READY and builds the admin client from the kubeconfig.
func (cp *controlPlane) waitReady(ready <-chan string, kubeconfig string) error {
	start := time.Now()
	select {
	case path := <-ready:
		if path != kubeconfig {
			return fmt.Errorf("kcluster wrote its kubeconfig to %s, not %s", path, kubeconfig)
		}
	case <-cp.exited:
		return fmt.Errorf("kcluster exited before READY (%v)", cp.cmd.ProcessState)
	case <-time.After(readyTimeout):
		return fmt.Errorf("kcluster not READY after %s", readyTimeout)
	}
	cp.ReadyAfter = time.Since(start)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "kproxy-e2e-deploy"
	cfg.QPS, cfg.Burst = 100, 200
	cp.Config = cfg
	cp.Admin, err = kubernetes.NewForConfig(cfg)
	return err
}

// stop ends kcluster (SIGTERM, then SIGKILL after 15 s) and removes its data.
func (cp *controlPlane) stop() {
	if cp.cmd != nil && cp.cmd.Process != nil {
		_ = cp.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-cp.exited:
		case <-time.After(15 * time.Second):
			_ = cp.cmd.Process.Kill()
			<-cp.exited
		}
	}
	_ = os.RemoveAll(cp.dir)
}

// repoRoot walks up from the working directory to kproxy's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/kproxy/kproxy\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the kproxy repository")
		}
		dir = parent
	}
}

// tail returns the last n lines of a file, or why it cannot.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
