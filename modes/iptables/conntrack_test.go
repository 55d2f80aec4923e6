package iptablesmode_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"

	iptablesmode "github.com/kproxy/kproxy/modes/iptables"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack/conntracktest"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestStaleUDPFlows checks which UDP connections survive syncs: those to a removed
// endpoint go, others stay; a service getting its first endpoint loses the flows
// made while it had none; a removed service loses all of its flows.
func TestStaleUDPFlows(t *testing.T) {
	ctx := context.Background()
	udp := v1.ProtocolUDP
	ap := netip.MustParseAddrPort
	client := ap("10.0.1.100:5353")
	dns := packetflow.NewService("kube-system", "dns", "172.30.0.10", packetflow.Port("dns", udp, 53, 0))
	slice := func(ips ...string) *discovery.EndpointSlice {
		var eps []packetflow.Endpoint
		for _, ip := range ips {
			eps = append(eps, packetflow.Endpoint{IP: ip, Node: packetflow.OtherNode})
		}
		return packetflow.NewSlice("kube-system", "dns", "dns-1", v1.IPv4Protocol, "dns", udp, 53, eps...)
	}

	ct := conntracktest.New()
	b := packetflow.NewBuilder(packetflow.ThisNode)
	b.Service(dns)
	faulty := iptablestest.NewFaulty(iptablestest.New(iptables.IPv4))
	be, err := iptablesmode.New(iptablesmode.Options{
		Family: v1.IPv4Protocol, IPTables: faulty, Conntrack: ct,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	sync := func() {
		t.Helper()
		snap, changes := b.Snapshot(v1.IPv4Protocol)
		if err := be.Sync(ctx, snap, changes); err != nil {
			t.Fatal(err)
		}
	}
	sync()

	// While the service had no endpoint, a client's packets made an un-DNATed flow.
	rejected := conntracktest.Flow{Protocol: udp, Source: client, Dest: ap("172.30.0.10:53")}
	other := conntracktest.Flow{Protocol: udp, Source: client, Dest: ap("172.30.0.99:53")}
	ct.Add(rejected, other)
	b.Slice(slice("10.0.2.1", "10.0.2.2"))
	sync()
	if got := ct.Flows(); !slices.Equal(got, []conntracktest.Flow{other}) {
		t.Errorf("after the first endpoints: flows %v, want only %v", got, other)
	}

	to1 := conntracktest.Flow{Protocol: udp, Source: client, Dest: ap("172.30.0.10:53"), DNAT: netip.MustParseAddr("10.0.2.1")}
	to2 := conntracktest.Flow{Protocol: udp, Source: ap("10.0.1.101:5353"), Dest: ap("172.30.0.10:53"), DNAT: netip.MustParseAddr("10.0.2.2")}
	ct.Add(to1, to2)
	b.Slice(slice("10.0.2.1"))
	sync()
	if got := ct.Flows(); !slices.Equal(got, []conntracktest.Flow{other, to1}) {
		t.Errorf("after removing endpoint 10.0.2.2: flows %v, want %v", got, []conntracktest.Flow{other, to1})
	}

	// A failed sync, then the full one repairing it, keep the flows of an unchanged
	// service.
	faulty.FailNext(1)
	if err := be.Sync(ctx, mustSnap(b), proxy.Changes{Full: true}); err == nil {
		t.Fatal("Sync succeeded with a failing iptables-restore")
	}
	if err := be.Sync(ctx, mustSnap(b), proxy.Changes{Full: true}); err != nil {
		t.Fatal(err)
	}
	if got := ct.Flows(); !slices.Equal(got, []conntracktest.Flow{other, to1}) {
		t.Errorf("after a failed and a repairing sync: flows %v, want %v", got, []conntracktest.Flow{other, to1})
	}

	b.DeleteService("kube-system", "dns")
	sync()
	if got := ct.Flows(); !slices.Equal(got, []conntracktest.Flow{other}) {
		t.Errorf("after deleting the service: flows %v, want only %v", got, other)
	}
}

// mustSnap returns the builder's IPv4 snapshot.
func mustSnap(b *packetflow.Builder) *proxy.Snapshot {
	snap, _ := b.Snapshot(v1.IPv4Protocol)
	return snap
}
