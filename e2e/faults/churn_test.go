package faultse2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// Timing of one pod replacement in TestChurnUnderLoad: the new pod serves
// for settle before the old one is marked terminating, which keeps serving
// for grace before it is stopped and removed. Both cover kproxy's minimum
// sync period (1 s: the previous step's removal was just synced) and a sync
// on a busy machine, with room for the new pod to get a few connections.
const (
	churnSettle = 2 * time.Second
	churnGrace  = 2500 * time.Millisecond
	churnRate   = 50
	churnPods   = 3
)

// TestChurnUnderLoad replaces the pods behind a Service one by one, the way
// a rolling update does (new pod added and ready; old pod marked
// terminating, still serving; old pod stopped and removed), while a pod
// opens 50 connections per second to the Service: no connection may fail,
// each new pod must get traffic and each old pod must stop getting new
// connections once kproxy synced its termination.
func TestChurnUnderLoad(t *testing.T) {
	c := framework.New(t, framework.Options{Nodes: 2})
	node := c.Nodes[0]
	c.StartKProxy(t, node, framework.KProxyOptions{})
	current := c.AddPods(t, "old", churnPods)
	caller := c.AddPod(t, framework.PodSpec{Name: "caller", Node: node})
	svc, addr := createWeb(t, c, current...)
	c.WaitServedBy(t, caller, addr, 10*time.Second, current...)

	type replacement struct {
		old, new                *framework.Pod
		added, terminated, gone time.Time
	}
	var steps []replacement
	start := time.Now()
	loop := framework.StartLoop(caller, addr, churnRate)
	time.Sleep(time.Second)
	for i := range churnPods {
		old := current[0]
		fresh := c.AddPod(t, framework.PodSpec{Name: fmt.Sprintf("new-%d", i+1), Node: c.Nodes[i%len(c.Nodes)]})
		current = append(current[1:], fresh)
		step := replacement{old: old, new: fresh}
		// The old pod is still ready: it is this step's to terminate.
		c.SetEndpoints(t, svc, framework.ReadyEndpoints(append([]*framework.Pod{old}, current...)...)...)
		step.added = time.Now()
		time.Sleep(churnSettle)
		c.TerminatePod(t, old)
		step.terminated = time.Now()
		time.Sleep(churnGrace)
		c.DeletePod(t, old)
		step.gone = time.Now()
		steps = append(steps, step)
	}
	time.Sleep(time.Second)
	atts := loop.Stop()
	elapsed := time.Since(start)

	all := framework.TallyOf(atts, time.Time{}, time.Time{})
	t.Logf("%d pods replaced in %v under %d conn/s: %s", churnPods, elapsed.Round(100*time.Millisecond), churnRate, all)
	if all.Failed > 0 {
		t.Errorf("want 0 failed connections, got %d; failures relative to the start: %s", all.Failed, framework.DescribeSpans(framework.FailureSpans(atts), start))
	}
	for _, s := range steps {
		first := framework.FirstAnswerBy(atts, s.new.Name)
		last := framework.LastAnswerBy(atts, s.old.Name)
		t.Logf("%s -> %s: new pod's first connection %v after it was added; old pod's last %v after it was marked terminating (removed after %v)",
			s.old.Name, s.new.Name, first.Sub(s.added).Round(time.Millisecond), last.Sub(s.terminated).Round(time.Millisecond), churnGrace)
		if first.IsZero() || first.After(s.terminated) {
			t.Errorf("%s got no connection before %s was marked terminating", s.new.Name, s.old.Name)
		}
		if last.After(s.gone) {
			t.Errorf("%s answered a connection started after it was removed", s.old.Name)
		}
	}
}
