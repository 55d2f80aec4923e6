package faultse2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// flushSyncPeriod is --iptables-sync-period in TestFlushedByHand: the canary
// is checked once per sync period.
const flushSyncPeriod = 5 * time.Second

// flushRounds is how often TestFlushedByHand flushes. The first flush falls
// anywhere in the canary's period; each later one comes 1.5 s after the
// repair of the previous one, which happened right after a canary check,
// and so measures close to the worst case: most of a period.
const flushRounds = 2

// TestFlushedByHand flushes the nat table by hand (iptables -t nat -F and
// -X, which deletes every KUBE chain there) and deletes the mangle canary
// chain KUBE-PROXY-CANARY, while a pod opens 50 connections per second to a
// Service. Nothing about the Service changed, so only the canary check can
// notice: it must restore kproxy's rules within one sync period (5 s) plus
// a sync (nat read every 100 ms equals the table from before the flush, and
// stays so), and traffic must resume at once.
func TestFlushedByHand(t *testing.T) {
	c := framework.New(t, framework.Options{Nodes: 2})
	node := c.Nodes[0]
	k := c.StartKProxy(t, node, framework.KProxyOptions{Args: []string{"--iptables-sync-period", flushSyncPeriod.String()}})
	pods := c.AddPods(t, "web", 2)
	caller := c.AddPod(t, framework.PodSpec{Name: "caller", Node: node})
	_, addr := createWeb(t, c, pods...)
	c.WaitServedBy(t, caller, addr, 10*time.Second, pods...)
	variant := k.IPTablesVariant(t)
	before := tableRules(t, c, node, variant, "nat")

	history := recordRules(node, variant)
	loop := framework.StartLoop(caller, addr, 50)
	time.Sleep(time.Second)
	var faults []framework.Fault
	for i := range flushRounds {
		started := time.Now()
		faults = append(faults, framework.Fault{Name: fmt.Sprintf("flush %d", i+1), Started: started, Made: flushByHand(t, c, node, variant)})
		// Only waits: the bound is checked on the recorded reads below.
		// Traffic then runs on the repaired table before the next flush.
		waitRules(t, c, node, variant, before, flushSyncPeriod+5*time.Second)
		time.Sleep(trafficResumeWithin + 500*time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	atts := loop.Stop()
	// Within one sync period (the canary's) and a sync.
	checkRepairs(t, history.stop(), atts, faults, before, flushSyncPeriod+time.Second)
	if got := strings.Count(k.Process.Log(), "rules were flushed by someone else"); got != flushRounds {
		t.Errorf("kproxy logged %d flushes, want %d", got, flushRounds)
	}
	if _, got, ok := waitRules(t, c, node, variant, before, 2*time.Second); !ok {
		t.Errorf("after the repair nat differs from before the flush:\n%s", ruleDiff(got, before))
	}
	if got := c.Exec(t, node, framework.IPTablesCmd(variant, "save"), "-t", "mangle"); !strings.Contains(got, ":KUBE-PROXY-CANARY") {
		t.Errorf("the canary chain was not recreated:\n%s", got)
	}
}

// flushByHand does what an operator cleaning up would: flush nat, delete
// its user chains, delete the canary chain. It returns when the last
// command ran, from when on only the canary check can bring the rules back.
func flushByHand(t *testing.T, c *framework.Cluster, n *framework.Node, variant string) time.Time {
	t.Helper()
	ipt := framework.IPTablesCmd(variant, "")
	c.Exec(t, n, ipt, "-t", "nat", "-F")
	c.Exec(t, n, ipt, "-t", "nat", "-X")
	c.Exec(t, n, ipt, "-t", "mangle", "-X", "KUBE-PROXY-CANARY")
	return time.Now()
}
