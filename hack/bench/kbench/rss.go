package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// kproxyMetrics is where kproxy serves /metrics (and /debug/pprof) in the
// measurement's namespace.
const kproxyMetrics = "127.0.0.1:10249"

// profAddr is where kproxyprof serves its profiles (its default).
const profAddr = "127.0.0.1:6060"

// rssFlags are the flags of the rss subcommand.
type rssFlags struct {
	scale
	kcluster, kproxy string
	dir              string
	workers          int
	settle           time.Duration
	heap             string
	env              multiFlag
}

// multiFlag is a flag that may be given several times.
type multiFlag []string

// String joins the values.
func (m *multiFlag) String() string { return strings.Join(*m, " ") }

// Set adds a value.
func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}

// runRSS runs the real control plane and the real kproxy binary in this
// namespace: it loads the API server with the cluster, starts kproxy in iptables
// mode, waits for its first full sync to program every service, lets it settle
// and reads its memory from /proc.
func runRSS(args []string) error {
	var f rssFlags
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	f.register(fs)
	fs.StringVar(&f.kcluster, "kcluster", "_output/bin/kcluster", "kcluster binary")
	fs.StringVar(&f.kproxy, "kproxy", "_output/bin/kproxy", "kproxy binary")
	fs.StringVar(&f.dir, "dir", "", "work directory for logs and the control plane's data (a new temporary one when empty)")
	fs.IntVar(&f.workers, "workers", 8, "concurrent API clients creating objects")
	fs.DurationVar(&f.settle, "settle", 10*time.Second, "how long to let kproxy settle after its first sync")
	fs.StringVar(&f.heap, "heap", "", "write kproxy's heap profile to this file (needs -kproxy hack/bench/kproxyprof's binary)")
	fs.Var(&f.env, "env", "also run kproxy from empty tables with these comma-separated VAR=value pairs added to its environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	if f.dir == "" {
		dir, err := os.MkdirTemp("", "kbench-rss-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		f.dir = dir
	} else if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	kubeconfig, cp, err := startControlPlane(f.kcluster, f.dir)
	if err != nil {
		return err
	}
	defer cp.stop(10 * time.Second)
	client, err := apiClient(kubeconfig)
	if err != nil {
		return err
	}
	start := time.Now()
	load := &apiLoad{client: client, services: f.services, eps: f.eps, workers: f.workers}
	if err := load.run(ctx); err != nil {
		return err
	}
	report("api.load", time.Since(start).Seconds())

	// The first start into empty tables, then a restart over its rules (what a
	// node sees on every kproxy upgrade), then the -env variants from empty tables.
	if err := measureKProxy(ctx, &f, kubeconfig, "", ""); err != nil {
		return err
	}
	if err := measureKProxy(ctx, &f, kubeconfig, "", ".restart"); err != nil {
		return err
	}
	for i, env := range f.env {
		if err := flushTables(); err != nil {
			return err
		}
		if err := measureKProxy(ctx, &f, kubeconfig, env, fmt.Sprintf(".env%d", i)); err != nil {
			return err
		}
	}
	return nil
}

// flushTables empties the nft variant's filter, nat and mangle tables of this
// namespace (runRSS runs in its own; see inNetns).
func flushTables() error {
	cmd := exec.Command("iptables-nft-restore")
	cmd.Stdin = strings.NewReader("*filter\nCOMMIT\n*nat\nCOMMIT\n*mangle\nCOMMIT\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("flushing the tables: %v: %s", err, out)
	}
	return nil
}

// measureKProxy runs kproxy (with env, comma-separated VAR=value pairs, added to
// its environment) until its first full sync is done and it settled, and reports
// its memory; names end with suffix.
func measureKProxy(ctx context.Context, f *rssFlags, kubeconfig, env, suffix string) error {
	var extra []string
	if env != "" {
		extra = strings.Split(env, ",")
	}
	kp, err := launch("kproxy", filepath.Join(f.dir, "kproxy"+suffix+".log"), nil, extra, f.kproxy,
		"--kubeconfig", kubeconfig,
		"--hostname-override", benchNode,
		"--proxy-mode", "iptables",
		"--cluster-cidr", clusterCIDR.String(),
		"--metrics-bind-address", kproxyMetrics,
		"--healthz-bind-address", "127.0.0.1:10256",
		"--conntrack-max-per-core", "0",
		"-v", "1")
	if err != nil {
		return err
	}
	defer kp.stop(10 * time.Second)
	start := time.Now()
	synced, err := waitFirstSync(ctx, kp, f.services, f.eps)
	if err != nil {
		return err
	}
	report("kproxy.ready"+suffix, time.Since(start).Seconds())
	report("kproxy.full"+suffix, synced)
	time.Sleep(f.settle)
	mem, err := kp.memory()
	if err != nil {
		return err
	}
	for _, m := range [...]struct{ name, field string }{{"rss", "VmRSS"}, {"peak", "VmHWM"}, {"anon", "RssAnon"}, {"file", "RssFile"}} {
		report("kproxy."+m.name+".mb"+suffix, float64(mem[m.field])/(1<<20))
	}
	if f.heap != "" {
		prof, err := scrape("http://" + profAddr + "/debug/pprof/heap?gc=1")
		if err != nil {
			return err
		}
		return os.WriteFile(f.heap+suffix, []byte(prof), 0o644)
	}
	return nil
}

// startControlPlane starts kcluster on 127.0.0.1 with its data under dir and
// returns the admin kubeconfig once it is ready.
func startControlPlane(bin, dir string) (string, *process, error) {
	lines := make(chan string, 16)
	p, err := launch("kcluster", filepath.Join(dir, "kcluster.log"), lines, nil, bin,
		"--bind-address", "127.0.0.1",
		"--data-dir", filepath.Join(dir, "cluster"),
		"--ready-timeout", "3m")
	if err != nil {
		return "", nil, err
	}
	kubeconfig, err := p.waitLine(lines, "READY ", 4*time.Minute)
	if err != nil {
		p.stop(5 * time.Second)
		return "", nil, err
	}
	return kubeconfig, p, nil
}

// apiClient returns a client for kubeconfig that is not throttled on the client
// side: the load is what the API server can take.
func apiClient(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "kproxy-bench"
	return kubernetes.NewForConfig(cfg)
}

// waitFirstSync polls kproxy's metrics until a full IPv4 sync has programmed every
// endpoint (at least one nat rule each) and returns how long
// kproxy's full syncs took, as it measured them.
func waitFirstSync(ctx context.Context, kp *process, services, eps int) (float64, error) {
	family := `ip_family="IPv4"`
	for {
		page, err := scrape("http://" + kproxyMetrics + "/metrics")
		if err == nil {
			n, _ := metricValue(page, "kubeproxy_sync_full_proxy_rules_duration_seconds_count", family)
			sum, _ := metricValue(page, "kubeproxy_sync_full_proxy_rules_duration_seconds_sum", family)
			rules, _ := metricValue(page, "kubeproxy_sync_proxy_rules_iptables_total", family, `table="nat"`)
			if n >= 1 && rules >= float64(services*eps) {
				return sum / n, nil
			}
		}
		if kp.exited() {
			return 0, fmt.Errorf("kproxy exited (%v); see %s", kp.err, kp.log.Name())
		}
		select {
		case <-ctx.Done():
			return 0, errors.Join(ctx.Err(), fmt.Errorf("kproxy did not sync every service; see %s", kp.log.Name()))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
