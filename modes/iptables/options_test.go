package iptablesmode

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestOptions checks the flags that change rules, with packets.
func TestOptions(t *testing.T) {
	family := v1.IPv4Protocol
	ip := netip.MustParseAddr
	nodeIP, otherLocal, loopback := ip("192.168.0.10"), ip("10.9.9.9"), ip("127.0.0.1")
	outside := ip("203.0.113.5")
	svc3 := packetflow.SortOutcomes([]packetflow.Outcome{
		{Endpoint: netip.MustParseAddrPort("10.0.1.3:80"), Masquerade: true},
		{Endpoint: netip.MustParseAddrPort("10.0.2.3:80"), Masquerade: true},
	})
	untouched := []packetflow.Outcome{{Verdict: "ACCEPT"}}
	type probe struct {
		src, dst netip.Addr
		local    bool
		want     []packetflow.Outcome
	}
	for _, tc := range []struct {
		name    string
		opts    func(*Options)
		probes  []probe
		dump    []string // lines the rules must hold
		liberal bool     // no INVALID drop rule
	}{
		{
			name: "node ports on every local address but loopback by default",
			opts: func(*Options) {},
			probes: []probe{
				{src: outside, dst: nodeIP, want: svc3},
				{src: outside, dst: otherLocal, want: svc3},
				{src: loopback, dst: loopback, local: true, want: untouched},
			},
		},
		{
			name: "nodeport-addresses",
			opts: func(o *Options) {
				o.NodePortAddresses = []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24"), netip.MustParsePrefix("fd00::/64")}
				o.LocalAddresses = func() ([]netip.Addr, error) { return []netip.Addr{nodeIP, otherLocal, ip("fd00::1")}, nil }
			},
			probes: []probe{
				{src: outside, dst: nodeIP, want: svc3},
				{src: outside, dst: otherLocal, want: untouched},
			},
			dump: []string{`-A KUBE-SERVICES -d 192.168.0.10/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS`},
		},
		{
			name: "localhost node ports",
			opts: func(o *Options) { o.LocalhostNodePorts = true },
			probes: []probe{
				{src: loopback, dst: loopback, local: true, want: svc3},
			},
			dump: []string{`-A INPUT -j KUBE-FIREWALL`, `-A OUTPUT -j KUBE-FIREWALL`},
		},
		{
			name: "masquerade bit and random-fully",
			opts: func(o *Options) {
				bit := 5
				o.MasqueradeBit, o.RandomFully, o.ConntrackTCPBeLiberal = &bit, true, true
			},
			probes: []probe{{src: outside, dst: nodeIP, want: svc3}},
			dump: []string{
				`-A KUBE-MARK-MASQ -j MARK --set-xmark 0x20/0x20`,
				`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
			},
			liberal: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := packetflow.Standard(family, false)
			fake := newFake(family)
			be := newTestBackend(t, family, fake, s.Settings, tc.opts)
			mustSync(t, be, s.Snapshot, full)
			tr := iptablestest.NewTracer(fake, iptablestest.Node{LocalAddrs: []netip.Addr{nodeIP, otherLocal}})
			for _, p := range tc.probes {
				got := traceCase(t, tr, packetflow.Case{Source: p.src, Protocol: v1.ProtocolTCP, Dest: p.dst, Port: 3003, Local: p.local})
				if !slices.Equal(got, p.want) {
					t.Errorf("%s -> %s:3003: got [%s], want [%s]", p.src, p.dst, packetflow.Format(got), packetflow.Format(p.want))
				}
			}
			dump := fake.Dump()
			for _, line := range tc.dump {
				if !strings.Contains(dump, line+"\n") {
					t.Errorf("rules lack %q:\n%s", line, dump)
				}
			}
			if got := strings.Contains(dump, "--ctstate INVALID -j DROP"); got == tc.liberal {
				t.Errorf("INVALID drop rule present = %v with ConntrackTCPBeLiberal = %v", got, tc.liberal)
			}
		})
	}
}

// TestNewRejectsBadOptions checks that configuration mistakes are reported at start.
func TestNewRejectsBadOptions(t *testing.T) {
	bit := 32
	for name, o := range map[string]Options{
		"no family":      {IPTables: newFake(v1.IPv4Protocol)},
		"wrong family":   {Family: v1.IPv6Protocol, IPTables: newFake(v1.IPv4Protocol)},
		"masquerade bit": {Family: v1.IPv4Protocol, IPTables: newFake(v1.IPv4Protocol), MasqueradeBit: &bit},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}
