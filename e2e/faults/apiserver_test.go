package faultse2e

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
)

// Timing of TestAPIServerOutage.
const (
	// outage is how long the API server stays down.
	outage = 30 * time.Second
	// catchUpWithin is how soon after the API server is back kproxy's rules
	// must equal a fresh sync of the final state.
	catchUpWithin = 5 * time.Second
	// catchUpWait is how long the test watches for that before giving up,
	// so that a late catch-up is measured, not just reported as late.
	catchUpWait = 40 * time.Second
	// churnStep is the pause between two endpoint changes of the churn.
	churnStep = 250 * time.Millisecond
)

// TestAPIServerOutage stops the API server for 30 s in the middle of
// endpoint churn and starts it again on the same data. While it is down a
// pod keeps opening 20 connections per second to the Service, whose
// endpoints all keep running: none may fail; kproxy must keep its process
// (same pid) and keep answering /livez. Once the API server is back and the
// endpoints change a last time, kproxy's nat table must equal, within 5 s,
// that of a fresh kproxy started on an identical node, and connections must
// reach exactly the final ready endpoints. The endpoints live on a third
// node so that nodes 1 and 2 are identical.
func TestAPIServerOutage(t *testing.T) {
	o := newOutageRun(t)
	pid := o.k.Process.Pid()
	loop := framework.StartLoop(o.caller, o.addr, 20)
	down, health := o.stopDuringChurn(t)
	o.c.StartControlPlane(t)
	back := time.Now()
	t.Logf("API server unavailable for %v: stopped for %v, then %v to be ready",
		back.Sub(down).Round(time.Millisecond), outage, time.Since(down.Add(outage)).Round(time.Millisecond))
	history := recordRules(o.node, o.variant)
	final := []framework.Endpoint{{Pod: o.web[1]}, {Pod: o.web[4]}, {Pod: o.web[5]}, {Pod: o.web[2], State: framework.StateTerminating}}
	ready := []*framework.Pod{o.web[1], o.web[4], o.web[5]}
	writeFinal(t, o.c, o.svc, final)
	ref := twinRules(t, o.c, o.twin, o.variant, ready...)
	waitRules(t, o.c, o.node, o.variant, ref, time.Until(back.Add(catchUpWait)))
	reads := history.stop()
	o.c.WaitServedBy(t, o.caller, o.addr, 5*time.Second, ready...)
	time.Sleep(time.Second)
	atts := o.k.ExcuseNetworkLosses(t, loop.Stop())

	framework.CheckNoFailures(t, atts, down, back, int(outage.Seconds())*15)
	health.Check(t, o.k, pid)
	served, _ := framework.Settled(atts, back, time.Time{}, framework.AnsweredBy(framework.PodNames(ready)...))
	checkCatchUp(t, reads, ref, served, back)
}

// outageRun is the cluster of TestAPIServerOutage: kproxy under test and a
// caller pod on node, node twin without kproxy until the end, and six web
// pods on a third node, the first four behind Service web.
type outageRun struct {
	c          *framework.Cluster
	k          *framework.KProxy
	node, twin *framework.Node
	web        []*framework.Pod
	caller     *framework.Pod
	svc        *corev1.Service
	addr       netip.AddrPort
	variant    string
}

// newOutageRun builds the cluster and waits until the Service answers.
func newOutageRun(t *testing.T) *outageRun {
	t.Helper()
	c := framework.New(t, framework.Options{Nodes: 3})
	o := &outageRun{c: c, node: c.Nodes[0], twin: c.Nodes[1]}
	o.k = c.StartKProxy(t, o.node, framework.KProxyOptions{})
	for i := range 6 {
		o.web = append(o.web, c.AddPod(t, framework.PodSpec{Name: fmt.Sprintf("web-%d", i+1), Node: c.Nodes[2]}))
	}
	o.caller = c.AddPod(t, framework.PodSpec{Name: "caller", Node: o.node})
	o.svc, o.addr = createWeb(t, c, o.web[:4]...)
	c.WaitServedBy(t, o.caller, o.addr, 10*time.Second, o.web[:4]...)
	o.variant = o.k.IPTablesVariant(t)
	return o
}

// stopDuringChurn churns the endpoints, kills the API server in the middle
// of it and watches kproxy's health until the outage has lasted its time.
// It returns when the API server went down.
func (o *outageRun) stopDuringChurn(t *testing.T) (time.Time, *framework.Liveness) {
	t.Helper()
	churn := startChurn(o.c, o.svc, o.web)
	time.Sleep(3 * time.Second)
	down := time.Now()
	o.c.StopControlPlane(t, 0) // SIGKILL: the outage starts at once
	time.Sleep(churnStep)
	writes, failed := churn.stop()
	t.Logf("churn: %d endpoint changes written in 3 s, then the API server was killed (%d writes failed)", writes, failed)
	return down, o.c.WatchLiveness(t, o.k, down.Add(outage))
}

// checkCatchUp wants the nat table equal to a fresh sync of the final state
// (ref), and connections served by the final endpoints only (since served),
// within catchUpWithin of the API server's return.
func checkCatchUp(t *testing.T, reads []ruleRead, ref string, served, back time.Time) {
	t.Helper()
	caughtUp, ok := equalSince(reads, ref)
	if !ok {
		last := ""
		if len(reads) > 0 {
			last = reads[len(reads)-1].rules
		}
		t.Fatalf("kproxy's nat table did not equal a fresh sync of the final state within %v of the API server's return:\n%s",
			catchUpWait, ruleDiff(last, ref))
	}
	t.Logf("after the API server's return: nat equal to a fresh sync after %v, connections reach only the final endpoints after %v",
		caughtUp.Sub(back).Round(time.Millisecond), served.Sub(back).Round(time.Millisecond))
	if caughtUp.Sub(back) > catchUpWithin || served.IsZero() || served.Sub(back) > catchUpWithin {
		t.Errorf("kproxy caught up too late: want the rules and the traffic right within %v of the API server's return", catchUpWithin)
	}
}

// writeFinal writes the final endpoints, retrying while the restarted API
// server settles.
func writeFinal(t *testing.T, c *framework.Cluster, svc *corev1.Service, eps []framework.Endpoint) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.TrySetEndpoints(svc, eps...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("writing the final endpoints: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
