package conntrack_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/conntrack/conntracktest"
)

// TestFakeMatchesKernelFilter: for each stale flow and conntrack entry, the fake
// deletes the entry exactly when the netlink filter the kernel seam sends would
// select it.
func TestFakeMatchesKernelFilter(t *testing.T) {
	ap, addr := netip.MustParseAddrPort, netip.MustParseAddr
	entry := conntracktest.Flow{Protocol: v1.ProtocolUDP, Source: ap("10.250.0.11:5353"), Dest: ap("10.96.0.10:53"), DNAT: addr("10.244.0.21")}
	for _, tc := range []struct {
		name  string
		stale conntrack.StaleFlow
		flow  conntracktest.Flow
		want  bool
	}{
		{"service address and port", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: addr("10.96.0.10"), Port: 53}, entry, true},
		{"that endpoint", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: addr("10.96.0.10"), Port: 53, Endpoint: addr("10.244.0.21")}, entry, true},
		{"another endpoint", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: addr("10.96.0.10"), Port: 53, Endpoint: addr("10.244.0.22")}, entry, false},
		{"any address (node port)", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Port: 53}, entry, true},
		{"another port", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: addr("10.96.0.10"), Port: 54}, entry, false},
		{"another address", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: addr("10.96.0.11"), Port: 53}, entry, false},
		{"another protocol", conntrack.StaleFlow{Protocol: v1.ProtocolTCP, Dest: addr("10.96.0.10"), Port: 53}, entry, false},
		{"not DNATed, service", conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: addr("10.96.0.10"), Port: 53},
			conntracktest.Flow{Protocol: v1.ProtocolUDP, Source: entry.Source, Dest: entry.Dest}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := conntracktest.New(tc.flow)
			if err := fake.ClearFlows([]conntrack.StaleFlow{tc.stale}); err != nil {
				t.Fatal(err)
			}
			if got := len(fake.Flows()) == 0; got != tc.want {
				t.Errorf("fake deleted the entry: %v, want %v", got, tc.want)
			}
			got, err := conntrack.MatchesFlow(tc.stale, kernelFlow(tc.flow))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("netlink filter matches the entry: %v, want %v", got, tc.want)
			}
		})
	}
}

// kernelFlow is the kernel's form of a fake entry: the reply comes from the DNAT
// endpoint, or from the original destination when there was no DNAT.
func kernelFlow(f conntracktest.Flow) *netlink.ConntrackFlow {
	proto := uint8(unix.IPPROTO_UDP)
	if f.Protocol == v1.ProtocolTCP {
		proto = unix.IPPROTO_TCP
	}
	replySrc := f.Dest.Addr()
	if f.DNAT.IsValid() {
		replySrc = f.DNAT
	}
	return &netlink.ConntrackFlow{
		FamilyType: unix.AF_INET,
		Forward: netlink.IPTuple{Protocol: proto, SrcIP: net.IP(f.Source.Addr().AsSlice()), SrcPort: f.Source.Port(),
			DstIP: net.IP(f.Dest.Addr().AsSlice()), DstPort: f.Dest.Port()},
		Reverse: netlink.IPTuple{Protocol: proto, SrcIP: net.IP(replySrc.AsSlice()), SrcPort: f.Dest.Port(),
			DstIP: net.IP(f.Source.Addr().AsSlice()), DstPort: f.Source.Port()},
	}
}

// TestUnknownProtocol: a stale flow of a protocol conntrack does not know is an
// error, not a filter matching everything.
func TestUnknownProtocol(t *testing.T) {
	err := conntrack.NewNetlink(v1.IPv4Protocol).ClearFlows([]conntrack.StaleFlow{{Protocol: "ICMP", Port: 1}})
	if err == nil {
		t.Error("ClearFlows accepted protocol ICMP")
	}
}
