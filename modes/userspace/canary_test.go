package userspace

import (
	"context"
	"net/netip"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// TestCanarySeesFlushes flushes the tables in the ways an operator might: the
// canary must notice each, and the next sync, even a partial one with
// nothing changed, must put back exactly the rules that were there.
func TestCanarySeesFlushes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flush string // iptables-restore input; "" flushes nothing
	}{
		{"nothing flushed", ""},
		{"nat flushed, chains kept (iptables -t nat -F)", "*nat\n-F\nCOMMIT\n"},
		{"nat flushed and its chains deleted (-F, -X)", "*nat\n-F\n-X\nCOMMIT\n"},
		{"nat and filter flushed and deleted", "*nat\n-F\n-X\nCOMMIT\n*filter\n-F\n-X\nCOMMIT\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, eps := threeServers(t)
			b := newTestBackend(t)
			snap := snapshot(newService(web, "172.30.0.10", eps))
			b.sync(t, snap, full)
			want := b.fake.Dump()
			if tc.flush != "" {
				if err := b.fake.Restore(context.Background(), []byte(tc.flush)); err != nil {
					t.Fatal(err)
				}
			}
			present, err := b.CheckCanary(context.Background())
			if err != nil || present != (tc.flush == "") {
				t.Fatalf("CheckCanary = %v, %v; want %v", present, err, tc.flush == "")
			}
			restores := b.fake.Restores()
			b.sync(t, snap, changed())
			if got := b.fake.Dump(); got != want {
				t.Errorf("rules after the next sync:\n%s\nwant:\n%s", got, want)
			}
			if wrote := b.fake.Restores() > restores; wrote != (tc.flush != "") {
				t.Errorf("the sync after the check restored: %v, want %v", wrote, tc.flush != "")
			}
		})
	}
}

// restoreCounts is a stateful stand-in for *proxy.Metrics: failed restores
// by kind.
type restoreCounts struct{ full, partial int }

// IPTablesRestoreFailed implements Metrics.
func (c *restoreCounts) IPTablesRestoreFailed(family v1.IPFamily, partial bool) {
	if partial {
		c.partial++
	} else {
		c.full++
	}
}

// TestRestoreFailuresCountedAndRepaired makes two restores fail: a partial
// sync's (a new service port) and the full one that follows it. Both are
// counted, the listener of the new service port exists all along, and the
// next sync, with nothing new to do, writes both services' portals.
func TestRestoreFailuresCountedAndRepaired(t *testing.T) {
	_, eps := threeServers(t)
	fake := iptablestest.New(iptablesFamily(false))
	faulty := iptablestest.NewFaulty(fake)
	counts := &restoreCounts{}
	b := newTestBackend(t, func(o *Options) { o.IPTables, o.Metrics = faulty, counts })
	other := spName("ns", "other", v1.ProtocolTCP)
	one := snapshot(newService(web, "172.30.0.10", eps))
	two := snapshot(newService(web, "172.30.0.10", eps), newService(other, "172.30.0.11", eps))
	b.sync(t, one, full)

	faulty.FailNext(2)
	if err := b.Sync(context.Background(), two, changed(other)); err == nil {
		t.Fatal("the partial sync succeeded while restores fail")
	}
	if err := b.Sync(context.Background(), two, changed()); err == nil {
		t.Fatal("the retry succeeded while restores fail")
	}
	if *counts != (restoreCounts{partial: 1, full: 1}) {
		t.Errorf("counted %+v, want one partial and one full failure", *counts)
	}
	dial(t, b.addr(t, other), netip.Addr{}).echo(t, "listening while the portals fail")
	b.sync(t, two, changed())
	for _, c := range []string{chainPortalsContainer, chainPortalsHost} {
		if n := len(fake.Rules("nat", c)); n != 2 {
			t.Errorf("%s holds %d rules after the repair, want 2:\n%s", c, n, fake.Dump())
		}
	}
	if len(fake.Rules("nat", "PREROUTING")) == 0 {
		t.Errorf("no jump from PREROUTING after the repair:\n%s", fake.Dump())
	}
}
