package userspace

import (
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// TestPortalsNodePortAddresses checks --nodeport-addresses: node ports answer on
// the node's addresses inside the ranges only; cluster, external and
// load-balancer IPs are not affected.
func TestPortalsNodePortAddresses(t *testing.T) {
	other := netip.MustParseAddr("10.9.0.5") // a local address outside the ranges
	b := newPortalBackend(t, v1.IPv4Protocol, "0.0.0.0", func(o *Options) {
		o.NodePortAddresses = []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24"), netip.MustParsePrefix("fd00::/8")}
	})
	b.sync(t, nodeSnapshot(fullService()), full)
	tr := iptablestest.NewTracer(b.fake, iptablestest.Node{LocalAddrs: []netip.Addr{nodeIP, other}})
	in := "ns/web:p internal"
	for _, c := range []portalCase{
		{"node port on an address in the ranges", pkt("203.0.113.5", "192.168.0.10", 30080, false), []string{"REDIRECT -> " + in}},
		{"node port on it from the node", pkt("192.168.0.10", "192.168.0.10", 30080, true), []string{"DNAT 192.168.0.10 -> " + in}},
		{"node port on another local address", pkt("203.0.113.5", other.String(), 30080, false), []string{"ACCEPT"}},
		{"node port on it from the node", pkt("192.168.0.10", other.String(), 30080, true), []string{"ACCEPT"}},
		{"node port on localhost", pkt("127.0.0.1", "127.0.0.1", 30080, true), []string{"ACCEPT"}},
		{"cluster IP", pkt("10.0.1.100", "172.30.0.10", 80, false), []string{"REDIRECT -> " + in}},
		{"external IP", pkt("203.0.113.5", "192.168.99.11", 80, false), []string{"REDIRECT -> " + in}},
	} {
		if got := b.describe(t, tr, c.pkt); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("rules:\n%s", b.fake.Dump())
	}
}

func TestNodePortCIDRs(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name string
		list []netip.Prefix
		ipv6 bool
		want []netip.Prefix
	}{
		{"none: every address", nil, false, nil},
		{"ranges of the family, masked, sorted, once", []netip.Prefix{p("192.168.0.7/24"), p("10.0.0.0/8"), p("192.168.0.0/24")}, false,
			[]netip.Prefix{p("10.0.0.0/8"), p("192.168.0.0/24")}},
		{"other family ignored", []netip.Prefix{p("fd00::/8"), p("10.0.0.0/8")}, false, []netip.Prefix{p("10.0.0.0/8")}},
		{"only the other family: every address", []netip.Prefix{p("10.0.0.0/8")}, true, nil},
		{"a /0: every address", []netip.Prefix{p("10.0.0.0/8"), p("0.0.0.0/0")}, false, nil},
	} {
		if got := nodePortCIDRs(tc.list, tc.ipv6); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
