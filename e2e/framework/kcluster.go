package framework

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
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kclusterReadyTimeout bounds a standalone kcluster's start; 2-5 s on a
// quiet machine.
const kclusterReadyTimeout = 3 * time.Minute

// KClusterOptions say how to run a standalone kcluster.
type KClusterOptions struct {
	// Dir receives its data (Dir/data), log (Dir/kcluster.log) and admin
	// kubeconfig (Dir/admin.kubeconfig); it is created if needed.
	Dir string
	// BindAddress and Port are where the API server listens.
	BindAddress string
	Port        int
	// AdvertiseAddress, when set, is the address it advertises (and puts in
	// its serving certificate and kubeconfig).
	AdvertiseAddress string
	// UserAgent, QPS and Burst configure the admin client.
	UserAgent string
	QPS       float32
	Burst     int
}

// KCluster is a kcluster (a real kube-apiserver and etcd) the test process
// runs in its own network namespace, for tests that need the API but no
// simulated nodes (e2e/deploy) or reach it from a VM (e2e/ipvs). Cluster
// runs its own in a fabric namespace instead.
type KCluster struct {
	// Config and Kube talk to it as system:masters.
	Config *rest.Config
	Kube   kubernetes.Interface
	// Kubeconfig is the admin kubeconfig.
	Kubeconfig string
	// ReadyAfter is how long it took to print READY.
	ReadyAfter time.Duration
	// LogPath holds its output.
	LogPath string

	cmd    *exec.Cmd
	exited chan struct{}
}

// StartKCluster starts kcluster from the binary directory (BinDir) and
// waits for its READY line. It dies with the test process (Pdeathsig).
func StartKCluster(o KClusterOptions) (*KCluster, error) {
	dir, err := BinDir()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, BinKCluster)
	if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%s not found: build it with `make binaries`, or set %s", bin, EnvBinDir)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	k := &KCluster{
		Kubeconfig: filepath.Join(o.Dir, "admin.kubeconfig"),
		LogPath:    filepath.Join(o.Dir, "kcluster.log"),
		exited:     make(chan struct{}),
	}
	start := time.Now()
	ready, err := k.start(bin, o)
	if err == nil {
		err = k.waitReady(ready)
	}
	if err != nil {
		err = fmt.Errorf("kcluster: %w; log tail:\n%s", err, k.LogTail(30))
		k.Stop()
		return nil, err
	}
	k.ReadyAfter = time.Since(start)
	return k, k.connect(o)
}

// start runs kcluster; the channel receives the path of its READY line.
func (k *KCluster) start(bin string, o KClusterOptions) (<-chan string, error) {
	log, err := os.Create(k.LogPath)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--bind-address", o.BindAddress,
		"--secure-port", strconv.Itoa(o.Port),
		"--data-dir", filepath.Join(o.Dir, "data"),
		"--kubeconfig", k.Kubeconfig,
		"--ready-timeout", kclusterReadyTimeout.String(),
	}
	if o.AdvertiseAddress != "" {
		args = append(args, "--advertise-address", o.AdvertiseAddress)
	}
	k.cmd = exec.Command(bin, args...)
	k.cmd.Stderr = log
	stdout, err := k.cmd.StdoutPipe()
	if err != nil {
		log.Close()
		return nil, err
	}
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := k.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ready := make(chan string, 1)
	go func() {
		copyWatchingReady(stdout, log, ready)
		_ = k.cmd.Wait()
		log.Close()
		close(k.exited)
	}()
	return ready, nil
}

// copyWatchingReady copies kcluster's stdout to log and sends the path of
// the first "READY <path>" line.
func copyWatchingReady(stdout io.Reader, log io.Writer, ready chan<- string) {
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

// waitReady waits for READY naming the expected kubeconfig.
func (k *KCluster) waitReady(ready <-chan string) error {
	select {
	case path := <-ready:
		if path != k.Kubeconfig {
			return fmt.Errorf("wrote its kubeconfig to %s, not %s", path, k.Kubeconfig)
		}
		return nil
	case <-k.exited:
		return fmt.Errorf("exited before READY (%v)", k.cmd.ProcessState)
	case <-time.After(kclusterReadyTimeout):
		return fmt.Errorf("not READY after %s", kclusterReadyTimeout)
	}
}

// connect builds the admin client.
func (k *KCluster) connect(o KClusterOptions) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", k.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent, cfg.QPS, cfg.Burst = o.UserAgent, o.QPS, o.Burst
	k.Config = cfg
	k.Kube, err = kubernetes.NewForConfig(cfg)
	return err
}

// Stop ends kcluster: SIGTERM, then SIGKILL after 15 s. Its directory stays.
func (k *KCluster) Stop() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.exited:
	case <-time.After(15 * time.Second):
		_ = k.cmd.Process.Kill()
		<-k.exited
	}
}

// LogTail returns the last n lines of kcluster's log, or why it cannot.
func (k *KCluster) LogTail(n int) string {
	data, err := os.ReadFile(k.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
