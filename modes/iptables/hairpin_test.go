package iptablesmode

import (
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestRemoteEndpointHairpin traces the standard scenario's service ns1/svc1 (one
// endpoint on this node, two on another) from one of its endpoints on the other
// node, a packet that only reaches this node's nat table when that node did not
// proxy it. Upstream marks it for SNAT when the draw picks the sender itself.
// kproxy does too when nothing tells cluster traffic from the rest (a bit more
// widely, see the first case); with a cluster
// CIDR the sender is a pod, which its own node proxies, so no per-endpoint rule is
// written for it, and with --masquerade-all everything is masqueraded anyway.
func TestRemoteEndpointHairpin(t *testing.T) {
	eps := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.1.1:8080"), netip.MustParseAddrPort("10.0.2.1:8080"), netip.MustParseAddrPort("10.0.2.2:8080"),
	}
	self := netip.MustParseAddrPort("10.0.2.1:8080")
	tests := []struct {
		name        string
		clusterCIDR bool
		everyone    bool // --cluster-cidr=0.0.0.0/0: every source is a pod
		masqAll     bool
		masqOnly    []netip.AddrPort // nil: Masquerade below applies to every endpoint
		masq        bool
	}{
		// The mark is set before the sender's own balancing rule, so the endpoints
		// after it in the chain are reached masqueraded too (see remoteHairpin).
		{name: "no cluster CIDR: the sender reaching itself or a later endpoint", masqOnly: eps[1:]},
		{name: "cluster CIDR: the sender is a pod, never masqueraded", clusterCIDR: true},
		{name: "masquerade-all: everything", clusterCIDR: true, masqAll: true, masq: true},
		{name: "cluster CIDR /0: every sender is a pod", clusterCIDR: true, everyone: true},
		{name: "cluster CIDR /0 and masquerade-all", clusterCIDR: true, everyone: true, masqAll: true, masq: true},
		{name: "masquerade-all without cluster CIDR", masqAll: true, masq: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := packetflow.Standard(v1.IPv4Protocol, tt.masqAll)
			if !tt.clusterCIDR {
				s.Settings.ClusterCIDR = netip.Prefix{}
			}
			if tt.everyone {
				s.Settings.ClusterCIDR = netip.MustParsePrefix("0.0.0.0/0")
			}
			fake := newFake(v1.IPv4Protocol)
			mustSync(t, newTestBackend(t, v1.IPv4Protocol, fake, s.Settings), s.Snapshot, full)
			c := packetflow.Case{Name: tt.name, Source: self.Addr(), Protocol: v1.ProtocolTCP,
				Dest: netip.MustParseAddr("172.30.0.41"), Port: 80, Endpoints: eps, Masquerade: tt.masq, MasqueradeOnly: tt.masqOnly}
			got := traceCase(t, iptablestest.NewTracer(fake, iptablestest.Node{LocalAddrs: s.NodeIPs}), c)
			if want := c.Want(); !slices.Equal(got, want) {
				t.Errorf("got [%s], want [%s]\nrules:\n%s", packetflow.Format(got), packetflow.Format(want), fake.Dump())
			}
		})
	}
}
