package iptablesmode

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// fakeMetrics keeps the last value of every metric the backend sets.
type fakeMetrics map[string]int

func (m fakeMetrics) SetIPTablesRules(f v1.IPFamily, table string, total, written int) {
	m["rules/"+table] = total
	m["written/"+table] = written
}

func (m fakeMetrics) IPTablesRestoreFailed(f v1.IPFamily, partial bool) {
	m[fmt.Sprintf("failed/partial=%v", partial)]++
}

func (m fakeMetrics) SetNoLocalEndpoints(f v1.IPFamily, internal, external int) {
	m["nolocal/internal"], m["nolocal/external"] = internal, external
}

// TestMetrics checks the rule counts against the fake's rules, and the other
// metrics against the standard scenario.
func TestMetrics(t *testing.T) {
	family := v1.IPv4Protocol
	s := packetflow.Standard(family, false)
	fake := newFake(family)
	faulty := iptablestest.NewFaulty(fake)
	m := fakeMetrics{}
	be := newTestBackend(t, family, faulty, s.Settings, func(o *Options) { o.Metrics = m })
	mustSync(t, be, s.Snapshot, full)
	check := func(when string) {
		t.Helper()
		for _, table := range []string{"nat", "filter"} {
			if got, want := m["rules/"+table], ownedRules(fake, table); got != want {
				t.Errorf("%s: %s rules = %d, the fake holds %d", when, table, got, want)
			}
		}
	}
	check("full sync")
	if m["nolocal/internal"] != 1 || m["nolocal/external"] != 1 {
		t.Errorf("no-local-endpoint services = %d internal, %d external; want 1, 1", m["nolocal/internal"], m["nolocal/external"])
	}

	s.Builder.DeleteService("ns2", "svc2")
	s.Builder.Slice(packetflow.NewSlice("ns1", "svc1", "svc1-1", family, "p", "TCP", 8080,
		packetflow.Endpoint{IP: "10.0.2.1", Node: packetflow.OtherNode}))
	snap, changes := s.Builder.Snapshot(family)
	mustSync(t, be, snap, changes)
	check("partial sync")

	s.Builder.DeleteService("ns3", "svc3")
	snap, changes = s.Builder.Snapshot(family)
	faulty.FailNext(1)
	if err := be.Sync(context.Background(), snap, changes); err == nil {
		t.Fatal("Sync succeeded with a failing iptables-restore")
	}
	if m["failed/partial=true"] != 1 {
		t.Errorf("failed partial restores = %d, want 1", m["failed/partial=true"])
	}
}

// ownedRules counts the rules of the fake's chains kproxy owns in a table.
func ownedRules(fake *iptablestest.Fake, table string) int {
	n := 0
	for _, c := range fake.Chains(tableOf(table)) {
		if !isBuiltin(c) && c != chainCanary {
			n += len(fake.Rules(tableOf(table), c))
		}
	}
	return n
}
