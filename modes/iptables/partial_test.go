package iptablesmode

import (
	"context"
	"maps"
	"net/netip"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// recorder keeps the payload of the last Restore call made through it.
type recorder struct {
	iptables.Restorer
	mu   sync.Mutex
	last string
	n    int
}

func (r *recorder) Restore(ctx context.Context, payload []byte) error {
	r.mu.Lock()
	r.last, r.n = string(payload), r.n+1
	r.mu.Unlock()
	return r.Restorer.Restore(ctx, payload)
}

// freshDump returns the dump of a new fake after one full sync of snap.
func freshDump(t *testing.T, family v1.IPFamily, s packetflow.Settings, snap *proxy.Snapshot) string {
	t.Helper()
	fake := newFake(family)
	mustSync(t, newTestBackend(t, family, fake, s), snap, full)
	return fake.Dump()
}

// TestPartialSyncEndpointChange checks that an endpoint change rewrites only that
// service's chain, leaves KUBE-SERVICES alone, and ends where a full sync would.
func TestPartialSyncEndpointChange(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		t.Run(string(family), func(t *testing.T) {
			s := packetflow.Standard(family, false)
			a := packetflow.Addresses{Family: family}
			b, snap := s.Builder, s.Snapshot
			fake := newFake(family)
			rec := &recorder{Restorer: fake}
			be := newTestBackend(t, family, rec, s.Settings)
			mustSync(t, be, snap, full)

			// ns3/svc3's remote endpoint moves to another address.
			b.Slice(packetflow.NewSlice("ns3", "svc3", "svc3-1", family, "p", v1.ProtocolTCP, 80,
				packetflow.Endpoint{IP: a.String("10.0.1.3"), Node: packetflow.ThisNode},
				packetflow.Endpoint{IP: a.String("10.0.2.33"), Node: packetflow.OtherNode}))
			snap, changes := b.Snapshot(family)
			mustSync(t, be, snap, changes)

			svc3 := newServiceNames(proxy.ServicePortName{NamespacedName: nsn("ns3", "svc3"), Port: "p", Protocol: v1.ProtocolTCP})
			payload := rec.last
			for _, want := range []string{":" + svc3.svc + " - [0:0]", a.String("10.0.2.33")} {
				if !strings.Contains(payload, want) {
					t.Errorf("payload lacks %q:\n%s", want, payload)
				}
			}
			for _, unwanted := range []string{":KUBE-SERVICES", "KUBE-SERVICES ", "*filter", "ns1/svc1"} {
				if strings.Contains(payload, unwanted) {
					t.Errorf("payload holds %q:\n%s", unwanted, payload)
				}
			}
			if got, want := fake.Dump(), freshDump(t, family, s.Settings, snap); got != want {
				t.Errorf("state after partial sync differs from a full sync:\n%s", diff(got, want))
			}
		})
	}
}

// TestPartialSyncNothingChanged checks that a sync with nothing to do runs nothing.
func TestPartialSyncNothingChanged(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	rec := &recorder{Restorer: newFake(v1.IPv4Protocol)}
	be := newTestBackend(t, v1.IPv4Protocol, rec, s.Settings)
	mustSync(t, be, s.Snapshot, full)
	n := rec.n
	mustSync(t, be, s.Snapshot, proxy.Changes{})
	// A change naming a service of the other family only touches nothing here.
	mustSync(t, be, s.Snapshot, proxy.Changes{Services: map[nsName]struct{}{nsn("other", "svc"): {}}})
	// A not-ready endpoint joins ns3/svc3: the rules it needs stay the same.
	s.Builder.Slice(packetflow.NewSlice("ns3", "svc3", "svc3-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 80,
		packetflow.Endpoint{IP: "10.0.1.3", Node: packetflow.ThisNode},
		packetflow.Endpoint{IP: "10.0.2.3", Node: packetflow.OtherNode},
		packetflow.Endpoint{IP: "10.0.2.30", Node: packetflow.OtherNode, NotReady: true}))
	snap, changes := s.Builder.Snapshot(v1.IPv4Protocol)
	if len(changes.Services) != 1 {
		t.Fatalf("changes = %v, want ns3/svc3", changes)
	}
	mustSync(t, be, snap, changes)
	if rec.n != n {
		t.Errorf("restores after no-op syncs: %d, want %d; last payload:\n%s", rec.n, n, rec.last)
	}
}

// TestBadServiceIsSkipped checks that a port the backend cannot program (here one
// of the other family, which proxy.Table never gives) is left out with a log line
// while the others are programmed.
func TestBadServiceIsSkipped(t *testing.T) {
	family := v1.IPv4Protocol
	s := packetflow.Standard(family, false)
	bad := *s.Snapshot.Services[s.Snapshot.Sorted()[0]]
	bad.Name.Name = "bad"
	bad.ClusterIP = netip.MustParseAddr("fd00::1")
	services := maps.Clone(s.Snapshot.Services)
	services[bad.Name] = &bad
	snap := &proxy.Snapshot{Family: family, Node: s.Snapshot.Node, Services: services}
	fake := newFake(family)
	mustSync(t, newTestBackend(t, family, fake, s.Settings), snap, full)
	if got, want := fake.Dump(), freshDump(t, family, s.Settings, s.Snapshot); got != want {
		t.Errorf("rules differ from those without the bad port:\n%s", diff(got, want))
	}
}

// TestPartialSyncAddRemoveService checks that adding and removing a service edits
// KUBE-SERVICES rule by rule, at the place a full sync would put the rules.
func TestPartialSyncAddRemoveService(t *testing.T) {
	family := v1.IPv4Protocol
	s := packetflow.Standard(family, false)
	b, snap := s.Builder, s.Snapshot
	fake := newFake(family)
	rec := &recorder{Restorer: fake}
	be := newTestBackend(t, family, rec, s.Settings)
	mustSync(t, be, snap, full)

	// ns35 sorts between ns3 and ns4: its rule must land in the middle.
	b.Service(packetflow.NewService("ns35", "new", "172.30.0.99", packetflow.Port("p", v1.ProtocolTCP, 80, 3099)))
	b.Slice(packetflow.NewSlice("ns35", "new", "new-1", family, "p", v1.ProtocolTCP, 80,
		packetflow.Endpoint{IP: "10.0.2.99", Node: packetflow.OtherNode}))
	b.DeleteService("ns2", "svc2")
	snap, changes := b.Snapshot(family)
	mustSync(t, be, snap, changes)
	for _, want := range []string{"-I KUBE-SERVICES ", "-D KUBE-SERVICES ", "-I KUBE-NODEPORTS "} {
		if !strings.Contains(rec.last, want) {
			t.Errorf("payload lacks %q:\n%s", want, rec.last)
		}
	}
	if strings.Contains(rec.last, ":KUBE-SERVICES") {
		t.Errorf("payload flushes KUBE-SERVICES:\n%s", rec.last)
	}
	if got, want := fake.Dump(), freshDump(t, family, s.Settings, snap); got != want {
		t.Errorf("state after partial sync differs from a full sync:\n%s", diff(got, want))
	}
}
