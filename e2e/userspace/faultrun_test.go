package userspacee2e

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
)

// The mode-independent sync metrics, labelled by ip_family.
const (
	metricRestoreFailures = "kubeproxy_sync_proxy_rules_iptables_restore_failures_total"
	metricSyncFailures    = "kubeproxy_sync_proxy_rules_failures_total"
)

// faultRun is the cluster of a fault test: one node that runs kproxy in
// userspace mode, web pods and a caller pod on it, and Service web (TCP 80)
// whose ready endpoints are serving.
type faultRun struct {
	c       *framework.Cluster
	node    *framework.Node
	k       *framework.KProxy
	web     []*framework.Pod
	serving []*framework.Pod
	caller  *framework.Pod
	svc     *corev1.Service
	addr    netip.AddrPort
	variant string
}

// newFaultRun builds the cluster with pods web pods, the first serving of
// them behind Service web. kproxy is not started yet: see start.
func newFaultRun(t *testing.T, pods, serving int) *faultRun {
	t.Helper()
	c := framework.New(t, framework.Options{Nodes: 1})
	r := &faultRun{c: c, node: c.Nodes[0]}
	r.web = c.AddPods(t, "web", pods)
	r.serving = r.web[:serving]
	r.caller = c.AddPod(t, framework.PodSpec{Name: "caller", Node: r.node})
	r.svc, r.addr = r.serve(t, "web", r.serving...)
	return r
}

// serve creates a TCP Service named name with pods as its ready endpoints
// and returns it with its cluster IP and port.
func (r *faultRun) serve(t *testing.T, name string, pods ...*framework.Pod) (*corev1.Service, netip.AddrPort) {
	t.Helper()
	svc := r.c.CreateService(t, service(name, nil))
	r.c.SetEndpoints(t, svc, framework.ReadyEndpoints(pods...)...)
	return svc, netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), servicePort)
}

// start runs kproxy in userspace mode on the node (the suite's port range,
// then args; env as KProxyOptions.Env) and waits until Service web answers
// through it.
func (r *faultRun) start(t *testing.T, env []string, args ...string) {
	t.Helper()
	r.k = r.c.StartKProxy(t, r.node, framework.KProxyOptions{Mode: "userspace", Env: env,
		Args: append([]string{"--proxy-port-range", portRange()}, args...)})
	r.c.WaitServedBy(t, r.caller, r.addr, syncWait, r.serving...)
	r.variant = r.k.IPTablesVariant(t)
}

// metric reads kproxy's IPv4 sample of a sync metric (0 when absent).
func (r *faultRun) metric(t *testing.T, name string) float64 {
	t.Helper()
	v, _ := framework.MetricValue(r.k.Metrics(t), name, map[string]string{"ip_family": "IPv4"})
	return v
}

// waitMetric waits until an IPv4 sync metric reaches at least want and
// returns its value; it fails the test after timeout.
func (r *faultRun) waitMetric(t *testing.T, name string, want float64, timeout time.Duration) float64 {
	t.Helper()
	var got float64
	if !eventually(timeout, func() bool { got = r.metric(t, name); return got >= want }) {
		t.Fatalf("%s = %v after %v, want at least %v", name, got, timeout, want)
	}
	return got
}

// ownLine matches the lines of iptables-save output that belong to the
// userspace mode: its chains' declarations and rules, and the jumps to them.
var ownLine = regexp.MustCompile(`^(\*|:KUBE-PORTALS-|:KUBE-NODEPORT-|-A .*KUBE-PORTALS-|-A .*KUBE-NODEPORT-)`)

// counters matches the packet and byte counters of a chain declaration.
var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// portalRules returns the userspace mode's lines of the node's IPv4 nat and
// filter tables, in the order iptables-save prints them, counters zeroed.
func (r *faultRun) portalRules(t *testing.T) string {
	t.Helper()
	var out []string
	for _, table := range []string{"nat", "filter"} {
		save := r.c.Exec(t, r.node, framework.IPTablesCmd(r.variant, "save"), "-t", table)
		for _, line := range strings.Split(save, "\n") {
			if ownLine.MatchString(line) {
				out = append(out, counters.ReplaceAllString(line, "[0:0]"))
			}
		}
	}
	return strings.Join(out, "\n")
}

// flushNat runs iptables -t nat with each of flags in turn (e.g. "-F", "-X")
// on the node, as an operator cleaning up would, and returns when the last
// one ran.
func (r *faultRun) flushNat(t *testing.T, flags ...string) time.Time {
	t.Helper()
	for _, f := range flags {
		r.c.Exec(t, r.node, framework.IPTablesCmd(r.variant, ""), "-t", "nat", f)
	}
	return time.Now()
}
