package ipvse2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// readyTimeout bounds kcluster's start; 2-5 s on a quiet machine.
const readyTimeout = 3 * time.Minute

// controlPlane is a running kcluster: a real kube-apiserver and etcd,
// listening on every address of the test's network namespace.
type controlPlane struct {
	// Kube talks to it as system:masters.
	Kube kubernetes.Interface
	// Kubeconfig is the admin kubeconfig; its server is
	// https://10.0.2.100:6443, valid on the host and in the guest alike.
	Kubeconfig string
	// ReadyAfter is how long kcluster took to print READY.
	ReadyAfter time.Duration

	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// kclusterBinary returns kcluster from the binary directory.
func kclusterBinary() (string, error) {
	dir, err := binDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kcluster")
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s not found: build it with `cd hack/cluster && go build -o ../../_output/bin/kcluster .` (or `make binaries`), or set %s", path, envBinDir)
	}
	return path, nil
}

// startControlPlane starts kcluster with its data in dir and waits for its
// READY line. It binds 0.0.0.0 so that QEMU's relays reach it on
// 127.0.0.1, and advertises apiserverIP, which the guest connects to.
func startControlPlane(dir string) (*controlPlane, error) {
	bin, err := kclusterBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cp := &controlPlane{
		Kubeconfig: filepath.Join(dir, "admin.kubeconfig"),
		logPath:    filepath.Join(dir, "kcluster.log"),
		exited:     make(chan struct{}),
	}
	start := time.Now()
	ready, err := cp.start(bin, dir)
	if err != nil {
		return nil, err
	}
	if err := cp.waitReady(ready); err != nil {
		err = fmt.Errorf("%w; log tail:\n%s", err, tail(cp.logPath, 30))
		cp.stop()
		return nil, err
	}
	cp.ReadyAfter = time.Since(start)
	return cp, nil
}

// start runs kcluster; the channel receives the path of its READY line.
func (cp *controlPlane) start(bin, dir string) (<-chan string, error) {
	log, err := os.Create(cp.logPath)
	if err != nil {
		return nil, err
	}
	cp.cmd = exec.Command(bin,
		"--bind-address", "0.0.0.0",
		"--advertise-address", apiserverIP,
		"--secure-port", strconv.Itoa(apiserverPort),
		"--data-dir", filepath.Join(dir, "data"),
		"--kubeconfig", cp.Kubeconfig,
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

// watchReady copies kcluster's stdout to log and sends the path of the
// first "READY <path>" line.
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

// waitReady waits for READY and builds the admin client.
func (cp *controlPlane) waitReady(ready <-chan string) error {
	select {
	case path := <-ready:
		if path != cp.Kubeconfig {
			return fmt.Errorf("kcluster wrote its kubeconfig to %s, not %s", path, cp.Kubeconfig)
		}
	case <-cp.exited:
		return fmt.Errorf("kcluster exited before READY (%v)", cp.cmd.ProcessState)
	case <-time.After(readyTimeout):
		return fmt.Errorf("kcluster not READY after %s", readyTimeout)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "kproxy-e2e-ipvs"
	cfg.QPS, cfg.Burst = 1000, 2000
	cp.Kube, err = kubernetes.NewForConfig(cfg)
	return err
}

// stop ends kcluster: SIGTERM, then SIGKILL after 15 s.
func (cp *controlPlane) stop() {
	if cp.cmd == nil || cp.cmd.Process == nil {
		return
	}
	_ = cp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-cp.exited:
	case <-time.After(15 * time.Second):
		_ = cp.cmd.Process.Kill()
		<-cp.exited
	}
}
