package framework

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kproxy defaults in the e2e cluster.
const (
	// KProxyMetricsAddr is where kproxy serves /metrics and /debug/state,
	// inside its node's namespace (kube-proxy's default).
	KProxyMetricsAddr = "127.0.0.1:10249"
	// KProxyHealthzPort is kube-proxy's default healthz port, on every
	// address of the node.
	KProxyHealthzPort = 10256
	// kproxyReadyTimeout bounds the wait for kproxy's metrics server.
	kproxyReadyTimeout = 20 * time.Second
)

// KProxyOptions say how to run kproxy on a node.
type KProxyOptions struct {
	// Mode is --proxy-mode (default "iptables").
	Mode string
	// Verbosity is -v (default 2).
	Verbosity int
	// Args are extra flags, appended last so they can override the
	// framework's (--cluster-cidr, --metrics-bind-address, ...).
	Args []string
	// Env are extra "NAME=value" environment entries; they override the test
	// process's (e.g. a PATH starting with a directory of tool wrappers).
	Env []string
}

// KProxy is kproxy running in a node's namespace.
type KProxy struct {
	// Node is the node it serves.
	Node *Node
	// Process is the running binary; its log is printed when the test fails.
	Process *Process
	// Mode is the proxy mode it runs.
	Mode string

	c *Cluster
}

// StartKProxy runs the kproxy binary in node n's namespace with its own
// kubeconfig (https://10.200.0.1:6443), --hostname-override n.Name,
// --cluster-cidr 10.244.0.0/16 and --conntrack-max-per-core 0, and waits
// until its metrics server answers.
// It skips the test when the binary says the mode is not in this build.
func (c *Cluster) StartKProxy(t testing.TB, n *Node, o KProxyOptions) *KProxy {
	t.Helper()
	c.requireAPI(t)
	if o.Mode == "" {
		o.Mode = "iptables"
	}
	if o.Verbosity == 0 {
		o.Verbosity = 2
	}
	kubeconfig, err := c.writeNodeKubeconfig(n)
	if err != nil {
		t.Fatalf("e2e: kubeconfig for %s: %v", n.Name, err)
	}
	args := append([]string{
		Binary(t, BinKProxy),
		"--kubeconfig", kubeconfig,
		"--hostname-override", n.Name,
		"--proxy-mode", o.Mode,
		"--cluster-cidr", ClusterCIDR,
		"--metrics-bind-address", KProxyMetricsAddr,
		// nf_conntrack_max is global and read-only outside the host's
		// namespace: leave it alone, as kube-proxy in a container must.
		"--conntrack-max-per-core", "0",
		"-v", strconv.Itoa(o.Verbosity),
	}, o.Args...)
	name := "kproxy " + n.Name
	logPath := filepath.Join(n.Dir, fmt.Sprintf("kproxy-%d.log", time.Now().UnixNano()))
	p, err := startProcess(name, n.NS, logPath, "", o.Env, args...)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	c.track(p)
	k := &KProxy{Node: n, Process: p, Mode: o.Mode, c: c}
	if err := k.waitServing(kproxyReadyTimeout); err != nil {
		if log := p.Log(); strings.Contains(log, "is not available in this build") {
			t.Skipf("e2e: kproxy refuses --proxy-mode %s: %s", o.Mode, lastLine(log))
		}
		t.Fatalf("e2e: %v", err)
	}
	return k
}

// waitServing polls /metrics until it answers or kproxy exits.
func (k *KProxy) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, lastErr := k.Get("/metrics")
		if lastErr == nil {
			return nil
		}
		if k.Process.Exited() {
			return fmt.Errorf("%s exited (%v); log:\n%s", k.Process.Name, k.Process.ExitErr(), k.Process.LogTail(40))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: metrics not served within %v (%v); log:\n%s", k.Process.Name, timeout, lastErr, k.Process.LogTail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Get fetches a path from kproxy's metrics server, from inside the node.
func (k *KProxy) Get(path string) (string, error) {
	status, body, err := k.c.HTTPGet(k.Node, "http://"+KProxyMetricsAddr+path)
	if err != nil {
		return "", err
	}
	if status != 200 {
		return body, fmt.Errorf("GET %s: HTTP %d: %s", path, status, strings.TrimSpace(body))
	}
	return body, nil
}

// Metrics returns kproxy's /metrics text.
func (k *KProxy) Metrics(t testing.TB) string {
	t.Helper()
	body, err := k.Get("/metrics")
	if err != nil {
		t.Fatalf("e2e: %s: %v", k.Process.Name, err)
	}
	return body
}

// DebugState returns kproxy's /debug/state text.
func (k *KProxy) DebugState(t testing.TB) string {
	t.Helper()
	body, err := k.Get("/debug/state")
	if err != nil {
		t.Fatalf("e2e: %s: %v", k.Process.Name, err)
	}
	return body
}

// WaitForState polls /debug/state until every wanted string occurs in it
// (each within one line) and returns the state; it fails the test with the
// last state seen when timeout passes.
func (k *KProxy) WaitForState(t testing.TB, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		state, err := k.Get("/debug/state")
		missing := missingLines(state, want)
		if err == nil && len(missing) == 0 {
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: %s: /debug/state lacks %q after %v (err %v); state:\n%s", k.Process.Name, missing, timeout, err, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops kproxy (SIGTERM, then SIGKILL after grace).
func (k *KProxy) Stop(t testing.TB, grace time.Duration) {
	t.Helper()
	if err := k.Process.Stop(grace); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}

// missingLines returns the wanted strings that occur in no line of text.
func missingLines(text string, want []string) []string {
	lines := strings.Split(text, "\n")
	var missing []string
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.Contains(l, w) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return missing
}

// lastLine returns the last non-empty line of text.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return lines[len(lines)-1]
}
