package faultse2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kproxy/kproxy/e2e/framework"
)

// reasonSyncFailing is the reason of the Event kproxy records on its Node
// after several failed syncs in a row (proxy.ReasonSyncFailing).
const reasonSyncFailing = "KproxySyncFailing"

// minFailures is how many failed restores TestRestoreFailures waits for
// before it lets them succeed: enough for the Event.
const minFailures = 3

// TestRestoreFailures makes iptables-restore fail on a node (a wrapper first
// in kproxy's PATH) while a Service's endpoints change. While it fails the
// kernel keeps the old rules, so connections still reach the old endpoints;
// every failure is logged and counted in
// kubeproxy_sync_proxy_rules_iptables_restore_failures_total and retried;
// kproxy records a KproxySyncFailing Event on its Node; and once restores
// work again a full sync leaves the nat table equal to that of a fresh
// kproxy on an identical node, with traffic reaching the new endpoints.
// The endpoints live on a third node so that nodes 1 and 2 are identical.
func TestRestoreFailures(t *testing.T) {
	c := framework.New(t, framework.Options{Nodes: 3})
	node, twin, podNode := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	shim := framework.NewRestoreShim(t, filepath.Join(node.Dir, "shim"))
	k := c.StartKProxy(t, node, framework.KProxyOptions{Env: shim.Env()})
	var web []*framework.Pod
	for i := range 3 {
		web = append(web, c.AddPod(t, framework.PodSpec{Name: fmt.Sprintf("web-%d", i+1), Node: podNode}))
	}
	caller := c.AddPod(t, framework.PodSpec{Name: "caller", Node: node})
	svc, addr := createWeb(t, c, web[0], web[1])
	c.WaitServedBy(t, caller, addr, 10*time.Second, web[0], web[1])
	variant := k.IPTablesVariant(t)
	logBefore := len(k.Process.Log())

	shim.Fail(t)
	failing := time.Now()
	c.SetEndpoints(t, svc, framework.ReadyEndpoints(web[1], web[2])...)
	failures, event := waitFailing(t, c, k, node, 20*time.Second)
	t.Logf("%v restore failures and the Event after %v: %s", failures, time.Since(failing).Round(time.Millisecond), event)
	// The kernel still holds the last good rules: the old endpoints answer.
	c.WaitServedBy(t, caller, addr, time.Second, web[0], web[1])

	shim.Heal(t)
	t.Logf("restores failed for %v", time.Since(failing).Round(time.Millisecond))
	took := c.WaitServedBy(t, caller, addr, 40*time.Second, web[1], web[2])
	t.Logf("traffic reached the new endpoints %v after restores worked again", took.Round(time.Millisecond))
	failures = metric(t, k, metricRestoreFailures)

	k.CheckFailedSyncs(t, logBefore, failures)
	ref := twinRules(t, c, twin, variant, web[1], web[2])
	if took, got, ok := waitRules(t, c, node, variant, ref, 5*time.Second); !ok {
		t.Errorf("after the failures nat differs from a fresh kproxy's (waited %v):\n%s", took, ruleDiff(got, ref))
	}
}

// waitFailing waits until kproxy counted minFailures IPv4 restore failures
// and recorded the KproxySyncFailing Event on its Node; it returns the
// count and the Event's message.
func waitFailing(t *testing.T, c *framework.Cluster, k *framework.KProxy, n *framework.Node, timeout time.Duration) (float64, string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		failures := metric(t, k, metricRestoreFailures)
		event := findEvent(t, c, n.Name, reasonSyncFailing)
		if failures >= minFailures && event != nil {
			return failures, fmt.Sprintf("%s %s (count %d): %s", event.Type, event.Reason, event.Count, event.Message)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v restore failures (want %d) and event %v", timeout, failures, minFailures, event)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// findEvent returns the Event with reason about Node node, nil if none.
func findEvent(t *testing.T, c *framework.Cluster, node, reason string) *corev1.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.Kube.CoreV1().Events("").List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Node,involvedObject.name=" + node + ",reason=" + reason,
	})
	if err != nil {
		t.Fatalf("listing events: %v", err)
	}
	if len(list.Items) == 0 {
		return nil
	}
	return &list.Items[0]
}

// twinRules starts a fresh kproxy on node n, identical to the node under
// test but for its name and addresses, and returns its nat table once it
// holds the given endpoints and settled: a fresh sync of the final state.
func twinRules(t *testing.T, c *framework.Cluster, n *framework.Node, variant string, endpoints ...*framework.Pod) string {
	t.Helper()
	k := c.StartKProxy(t, n, framework.KProxyOptions{})
	var want []string
	for _, p := range endpoints {
		want = append(want, fmt.Sprintf("endpoint %s:%d ready", p.IP, framework.EchoTCPPort))
	}
	k.WaitForState(t, 10*time.Second, want...)
	if v := k.IPTablesVariant(t); v != variant {
		t.Fatalf("the twin node uses iptables-%s, the node under test iptables-%s", v, variant)
	}
	return settledRules(t, c, n, variant)
}
