package faultse2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// TestKillAndRestart kills kproxy with SIGKILL and starts it again while a
// pod opens 20 connections per second to a Service for 10 s: the rules stay
// in the kernel while no kproxy runs, the new process does not flush them at
// start-up (a watch reading the nat table every 50 ms never misses a DNAT
// rule), no connection fails, and once the new process has synced the nat
// table is what it was before the kill.
func TestKillAndRestart(t *testing.T) {
	c := framework.New(t, framework.Options{Nodes: 2})
	node := c.Nodes[0]
	k := c.StartKProxy(t, node, framework.KProxyOptions{})
	pods := c.AddPods(t, "web", 3)
	caller := c.AddPod(t, framework.PodSpec{Name: "caller", Node: node})
	_, addr := createWeb(t, c, pods...)
	c.WaitServedBy(t, caller, addr, 10*time.Second, pods...)
	variant := k.IPTablesVariant(t)
	before := tableRules(t, c, node, variant, "nat")
	var dnat []string
	for _, p := range pods {
		dnat = append(dnat, fmt.Sprintf("--to-destination %s:%d", p.IP, framework.EchoTCPPort))
	}

	start := time.Now()
	loop := framework.StartLoop(caller, addr, 20)
	watch := watchRules(node, variant, dnat...)
	time.Sleep(3 * time.Second)
	pid := k.Process.Pid()
	killed := time.Now()
	k.Stop(t, 0) // SIGKILL: no cleanup of any kind
	if got := tableRules(t, c, node, variant, "nat"); got != before {
		t.Errorf("the nat table changed when kproxy was killed:\n%s", ruleDiff(got, before))
	}
	k2 := c.StartKProxy(t, node, framework.KProxyOptions{})
	serving := time.Since(killed)
	waitSynced(t, k2, 0, 10*time.Second)
	synced := time.Since(killed)
	time.Sleep(time.Until(start.Add(10 * time.Second)))
	atts := loop.Stop()
	reads, missing, example, errs := watch.stop()

	all := framework.TallyOf(atts, time.Time{}, time.Time{})
	t.Logf("kproxy pid %d killed; new pid %d serving metrics after %v, first sync done %v after the kill",
		pid, k2.Process.Pid(), serving.Round(time.Millisecond), synced.Round(time.Millisecond))
	t.Logf("client loop over 10 s: %s", all)
	t.Logf("nat table read %d times over the 10 s, %d lacked a DNAT rule", reads, missing)
	if all.Failed > 0 || all.Sent < 180 {
		t.Errorf("want 0 failed connections out of ~200, got %s", all)
	}
	if missing > 0 || reads == 0 || len(errs) > 0 {
		t.Errorf("rules left the kernel during the restart (%d of %d reads, errors %v); first: %s", missing, reads, errs, example)
	}
	if took, got, ok := waitRules(t, c, node, variant, before, 5*time.Second); !ok {
		t.Errorf("after the restart the nat table differs from before the kill (waited %v):\n%s", took, ruleDiff(got, before))
	}
	if f := metric(t, k2, metricRestoreFailures); f != 0 {
		t.Errorf("the restarted kproxy counted %v iptables-restore failures", f)
	}
}
