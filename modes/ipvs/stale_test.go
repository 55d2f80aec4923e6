package ipvsmode_test

import (
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy/conntrack/conntracktest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestStaleUDPFlows follows which conntrack entries survive syncs: a UDP service
// getting its first endpoint loses the entries made while it had none (cluster IP
// and node port alike), entries DNATed to a removed UDP endpoint go, a removed UDP
// service loses all of its entries, and TCP entries and other services' entries
// stay. A full resync of an unchanged node clears nothing.
func TestStaleUDPFlows(t *testing.T) {
	udp, tcp := v1.ProtocolUDP, v1.ProtocolTCP
	ap, addr := netip.MustParseAddrPort, netip.MustParseAddr
	client := ap("10.250.0.11:5353")
	flow := func(proto v1.Protocol, dst, dnat string) conntracktest.Flow {
		f := conntracktest.Flow{Protocol: proto, Source: client, Dest: ap(dst)}
		if dnat != "" {
			f.DNAT = addr(dnat)
		}
		return f
	}
	var (
		rejected   = flow(udp, "172.30.0.10:53", "")
		rejectedNP = flow(udp, "192.168.0.10:30053", "")
		other      = flow(udp, "172.30.0.99:53", "")
		web        = flow(tcp, "172.30.0.20:80", "10.0.2.2")
		to1        = flow(udp, "172.30.0.10:53", "10.0.2.1")
		to2        = flow(udp, "172.30.0.10:53", "10.0.2.2")
		np2        = flow(udp, "192.168.0.10:30053", "10.0.2.2")
	)
	dnsSlice := func(ips ...string) func(*packetflow.Builder) {
		return func(b *packetflow.Builder) {
			b.Slice(packetflow.NewSlice("kube-system", "dns", "dns-1", v1.IPv4Protocol, "dns", udp, 5353, eps(nil, ips...)...))
		}
	}
	webSlice := func(ips ...string) func(*packetflow.Builder) {
		return func(b *packetflow.Builder) {
			b.Slice(packetflow.NewSlice("ns", "web", "web-1", v1.IPv4Protocol, "http", tcp, 8080, eps(nil, ips...)...))
		}
	}
	steps := []struct {
		name   string
		add    []conntracktest.Flow
		change func(*packetflow.Builder)
		full   bool
		want   []conntracktest.Flow
	}{
		{"no endpoint yet", []conntracktest.Flow{rejected, rejectedNP, other, web}, func(*packetflow.Builder) {}, true,
			[]conntracktest.Flow{rejected, rejectedNP, other, web}},
		{"first endpoints", nil, dnsSlice("10.0.2.1", "10.0.2.2"), false, []conntracktest.Flow{other, web}},
		{"an endpoint of each service removed", []conntracktest.Flow{to1, to2, np2}, func(b *packetflow.Builder) {
			dnsSlice("10.0.2.1")(b)
			webSlice("10.0.2.1")(b)
		}, false, []conntracktest.Flow{other, web, to1}},
		{"full resync", nil, func(*packetflow.Builder) {}, true, []conntracktest.Flow{other, web, to1}},
		{"service removed", nil, func(b *packetflow.Builder) { b.DeleteService("kube-system", "dns") }, false,
			[]conntracktest.Flow{other, web}},
	}

	ct := conntracktest.New()
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	b := newBackend(t, k, func(o *ipvsmode.Options) { o.Conntrack = ct })
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	pb.Service(packetflow.NewService("kube-system", "dns", "172.30.0.10", packetflow.Port("dns", udp, 53, 30053)))
	pb.Service(packetflow.NewService("ns", "web", "172.30.0.20", packetflow.Port("http", tcp, 80, 0)))
	webSlice("10.0.2.1", "10.0.2.2")(pb)
	for _, st := range steps {
		ct.Add(st.add...)
		st.change(pb)
		snap, changes := pb.Snapshot(v1.IPv4Protocol)
		if st.full {
			changes = full
		}
		mustSync(t, b, snap, changes)
		if got := ct.Flows(); !slices.Equal(got, st.want) {
			t.Errorf("%s: flows\n%v\nwant\n%v", st.name, got, st.want)
		}
	}
}
