package userspacee2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// flushSyncPeriod is --iptables-sync-period in TestUserspaceFlushedByHand:
// the canary is checked once per sync period.
const flushSyncPeriod = 5 * time.Second

// TestUserspaceFlushedByHand flushes the node's nat table by hand while a
// pod opens 50 connections per second to a Service: first `iptables -t nat
// -F` alone, which keeps kproxy's (now empty) portal chains but drops every
// portal and the jumps to them, then, once that is repaired, `-F` and `-X`,
// which also deletes the chains. Nothing about the Service changed, so only
// the canary check can notice: traffic must be back within one sync period
// (5 s) and a second, and the portal rules must read as before the flush.
// The second flush comes right after a canary check repaired the first: the
// worst case, a whole period.
func TestUserspaceFlushedByHand(t *testing.T) {
	r := newFaultRun(t, 2, 2)
	r.start(t, nil, "--iptables-sync-period", flushSyncPeriod.String())
	before := r.portalRules(t)
	loop := framework.StartLoop(r.caller, r.addr, 50)
	time.Sleep(time.Second)
	rounds := [][]string{{"-F"}, {"-F", "-X"}}
	var faults []framework.Fault
	for _, flags := range rounds {
		started := time.Now()
		name := "iptables -t nat " + strings.Join(flags, " ")
		faults = append(faults, framework.Fault{Name: name, Started: started, Made: r.flushNat(t, flags...)})
		// Only waits: the bound is checked on the client loop below (see
		// the same wait in e2e/faults' flush test).
		r.c.WaitServedBy(t, r.caller, r.addr, flushSyncPeriod+10*time.Second, r.serving...)
	}
	time.Sleep(time.Second)
	// Within one sync period (the canary's) and a second.
	framework.CheckRecoveries(t, loop.Stop(), faults, flushSyncPeriod+time.Second)
	if got := strings.Count(r.k.Process.Log(), "rules were flushed by someone else"); got != len(rounds) {
		t.Errorf("kproxy logged %d flushes, want %d", got, len(rounds))
	}
	if after := r.portalRules(t); after != before {
		t.Errorf("after the repair the portal rules differ from before the flush:\n%s\nwant:\n%s", after, before)
	}
}
