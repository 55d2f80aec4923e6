package userspace

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/endpoints"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var nodeIP = netip.MustParseAddr("192.168.0.10")

// newPortalBackend returns a backend whose rules say it listens on bind while
// its sockets really listen on loopback, so that tests never listen on the
// host's addresses.
func newPortalBackend(t *testing.T, family v1.IPFamily, bind string, mods ...func(*Options)) *testBackend {
	t.Helper()
	fake := iptablestest.New(iptablesFamily(family == v1.IPv6Protocol))
	b := newTestBackend(t, append([]func(*Options){func(o *Options) {
		o.Family, o.IPTables, o.BindAddress = family, fake, netip.MustParseAddr(bind)
	}}, mods...)...)
	b.cfg.listenOn = netip.MustParseAddr("127.0.0.1")
	if family == v1.IPv6Protocol {
		b.cfg.listenOn = netip.IPv6Loopback()
	}
	return b
}

// describe traces a packet and names where each outcome goes: "-> ns/svc:p
// internal" for a listener (with the DNAT address, if any, first), else the
// tracer's verdict.
func (tb *testBackend) describe(t *testing.T, tr *iptablestest.Tracer, p iptablestest.Packet) []string {
	t.Helper()
	if p.SourcePort == 0 {
		p.SourcePort = 40000
	}
	outs, err := tr.Trace(p)
	if err != nil {
		t.Fatalf("trace %+v: %v", p, err)
	}
	var got []string
	for _, o := range outs {
		switch o.Verdict {
		case iptablestest.Redirect:
			got = append(got, "REDIRECT -> "+tb.listenerAt(t, int(o.To.Port())))
		case iptablestest.DNAT:
			got = append(got, "DNAT "+o.To.Addr().String()+" -> "+tb.listenerAt(t, int(o.To.Port())))
		default:
			got = append(got, o.String())
		}
	}
	return got
}

// listenerAt names the listener on port.
func (tb *testBackend) listenerAt(t *testing.T, port int) string {
	t.Helper()
	l, name := tb.findListener(port)
	if l == nil {
		t.Errorf("traffic sent to port %d, where no listener listens", port)
		return "nothing at " + strconv.Itoa(port)
	}
	return name
}

// findListener returns the listener on port and its name.
func (tb *testBackend) findListener(port int) (listener, string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, sp := range tb.services {
		if sp.internal != nil && sp.internal.port() == port {
			return sp.internal, sp.label + " internal"
		}
		if sp.external != nil && sp.external.port() == port {
			return sp.external, sp.label + " external"
		}
	}
	return nil, ""
}

// fullService returns web: cluster IP 172.30.0.10:80, node port 30080, an
// external IP, a load-balancer IP, and a local and a remote endpoint.
func fullService(opts ...svcOpt) *proxy.Service {
	local := endpoints.Endpoint{IP: netip.MustParseAddr("10.0.1.1"), Port: 8080, Ready: true, Serving: true, Local: true}
	remote := endpoints.Endpoint{IP: netip.MustParseAddr("10.0.2.1"), Port: 8080, Ready: true, Serving: true}
	s := newService(web, "172.30.0.10", nil, opts...)
	s.NodePort = 30080
	s.ExternalIPs = []netip.Addr{netip.MustParseAddr("192.168.99.11")}
	s.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("5.6.7.8")}
	s.All = []endpoints.Endpoint{local, remote}
	s.Endpoints = endpoints.Select(s.All, s.Policy, true, "")
	return s
}

func withPolicy(p endpoints.Policy) svcOpt { return func(s *proxy.Service) { s.Policy = p } }

func nodeSnapshot(svcs ...*proxy.Service) *proxy.Snapshot {
	s := snapshot(svcs...)
	s.Node = proxy.Node{Name: "node-a", IPs: []netip.Addr{nodeIP}}
	return s
}

type portalCase struct {
	name string
	pkt  iptablestest.Packet
	want []string
}

func pkt(src, dst string, port uint16, local bool) iptablestest.Packet {
	return iptablestest.Packet{Source: netip.MustParseAddr(src), Protocol: "tcp", Dest: netip.MustParseAddr(dst), DestPort: port, Local: local}
}

func runPortalCases(t *testing.T, b *testBackend, cases []portalCase) {
	t.Helper()
	tr := iptablestest.NewTracer(b.fake, iptablestest.Node{LocalAddrs: []netip.Addr{nodeIP}})
	for _, c := range cases {
		if got := b.describe(t, tr, c.pkt); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("rules:\n%s", b.fake.Dump())
	}
}

func TestPortalsBoundToEveryAddress(t *testing.T) {
	b := newPortalBackend(t, v1.IPv4Protocol, "0.0.0.0")
	b.sync(t, nodeSnapshot(fullService()), full)
	in := "ns/web:p internal"
	runPortalCases(t, b, []portalCase{
		{"cluster IP from a pod", pkt("10.0.1.100", "172.30.0.10", 80, false), []string{"REDIRECT -> " + in}},
		{"cluster IP from the node", pkt("192.168.0.10", "172.30.0.10", 80, true), []string{"DNAT 192.168.0.10 -> " + in}},
		{"cluster IP, other port", pkt("10.0.1.100", "172.30.0.10", 81, false), []string{"ACCEPT"}},
		{"node port from outside", pkt("203.0.113.5", "192.168.0.10", 30080, false), []string{"REDIRECT -> " + in}},
		{"node port from the node", pkt("192.168.0.10", "192.168.0.10", 30080, true), []string{"DNAT 192.168.0.10 -> " + in}},
		{"node port on localhost", pkt("127.0.0.1", "127.0.0.1", 30080, true), []string{"DNAT 192.168.0.10 -> " + in}},
		{"node port on a foreign address", pkt("203.0.113.5", "198.51.100.1", 30080, false), []string{"ACCEPT"}},
		{"external IP from outside", pkt("203.0.113.5", "192.168.99.11", 80, false), []string{"REDIRECT -> " + in}},
		{"external IP from the node", pkt("192.168.0.10", "192.168.99.11", 80, true), []string{"DNAT 192.168.0.10 -> " + in}},
		{"load-balancer IP from outside", pkt("203.0.113.5", "5.6.7.8", 80, false), []string{"REDIRECT -> " + in}},
	})
	udp := pkt("10.0.1.100", "172.30.0.10", 80, false)
	udp.Protocol = "udp"
	runPortalCases(t, b, []portalCase{{"UDP to a TCP port", udp, []string{"ACCEPT"}}})
}

func TestPortalsBoundToOneAddress(t *testing.T) {
	b := newPortalBackend(t, v1.IPv4Protocol, "192.168.0.20")
	b.sync(t, nodeSnapshot(fullService()), full)
	in := "DNAT 192.168.0.20 -> ns/web:p internal"
	runPortalCases(t, b, []portalCase{
		{"cluster IP from a pod", pkt("10.0.1.100", "172.30.0.10", 80, false), []string{in}},
		{"cluster IP from the node", pkt("192.168.0.10", "172.30.0.10", 80, true), []string{in}},
		{"node port from outside", pkt("203.0.113.5", "192.168.0.10", 30080, false), []string{in}},
	})
}

func TestPortalsWithoutNodeAddress(t *testing.T) {
	b := newPortalBackend(t, v1.IPv4Protocol, "0.0.0.0")
	b.sync(t, snapshot(fullService()), full)
	runPortalCases(t, b, []portalCase{
		{"cluster IP from the node goes to loopback", pkt("192.168.0.10", "172.30.0.10", 80, true), []string{"REDIRECT -> ns/web:p internal"}},
	})
}

func TestPortalsExternalPolicyLocal(t *testing.T) {
	b := newPortalBackend(t, v1.IPv4Protocol, "0.0.0.0", func(o *Options) {
		o.ClusterCIDRs = []netip.Prefix{netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("10.0.0.0/16")}
	})
	b.sync(t, nodeSnapshot(fullService(withPolicy(endpoints.Policy{ExternalLocal: true}))), full)
	in, ext := "ns/web:p internal", "ns/web:p external"
	runPortalCases(t, b, []portalCase{
		{"cluster IP", pkt("10.0.1.100", "172.30.0.10", 80, false), []string{"REDIRECT -> " + in}},
		{"node port from outside", pkt("203.0.113.5", "192.168.0.10", 30080, false), []string{"REDIRECT -> " + ext}},
		{"node port from a pod is internal", pkt("10.0.1.100", "192.168.0.10", 30080, false), []string{"REDIRECT -> " + in}},
		{"node port from the node is internal", pkt("192.168.0.10", "192.168.0.10", 30080, true), []string{"DNAT 192.168.0.10 -> " + in}},
		{"external IP from outside", pkt("203.0.113.5", "192.168.99.11", 80, false), []string{"REDIRECT -> " + ext}},
		{"external IP from a pod is internal", pkt("10.0.1.100", "192.168.99.11", 80, false), []string{"REDIRECT -> " + in}},
		{"load-balancer IP from outside", pkt("203.0.113.5", "5.6.7.8", 80, false), []string{"REDIRECT -> " + ext}},
	})
	sp := b.services[web]
	if got := sp.internal.(*tcpListener).pool.eps; len(got) != 2 {
		t.Errorf("internal listener balances over %v, want both endpoints", got)
	}
	if got := sp.external.(*tcpListener).pool.eps; len(got) != 1 || got[0].Addr() != netip.MustParseAddr("10.0.1.1") {
		t.Errorf("external listener balances over %v, want the local endpoint only", got)
	}
	// Back to the Cluster policy: the external listener goes.
	port := sp.external.port()
	b.sync(t, nodeSnapshot(fullService()), changed(web))
	if _, ext, _ := b.ListenerPorts(web); ext == port || b.services[web].external != nil {
		t.Errorf("external listener kept after the policy change")
	}
}

func TestPortalsLoadBalancerSourceRanges(t *testing.T) {
	b := newPortalBackend(t, v1.IPv4Protocol, "0.0.0.0")
	ranged := fullService(func(s *proxy.Service) { s.SourceRanges = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")} })
	closed := fullService(func(s *proxy.Service) { s.SourceRanges = []netip.Prefix{} })
	closed.Name, closed.ClusterIP, closed.NodePort = spName("ns", "closed", v1.ProtocolTCP), netip.MustParseAddr("172.30.0.11"), 0
	closed.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("5.6.7.9")}
	closed.ExternalIPs = nil
	b.sync(t, nodeSnapshot(ranged, closed), full)
	runPortalCases(t, b, []portalCase{
		{"allowed source", pkt("203.0.113.5", "5.6.7.8", 80, false), []string{"REDIRECT -> ns/web:p internal"}},
		{"other source is not intercepted", pkt("198.51.100.9", "5.6.7.8", 80, false), []string{"ACCEPT"}},
		{"no source allowed", pkt("203.0.113.5", "5.6.7.9", 80, false), []string{"ACCEPT"}},
		{"the cluster IP is not limited", pkt("198.51.100.9", "172.30.0.11", 80, false), []string{"REDIRECT -> ns/closed:p internal"}},
	})
}

func TestPortalsIPv6(t *testing.T) {
	b := newPortalBackend(t, v1.IPv6Protocol, "::")
	svc := newService(web, "fd00::10", []netip.AddrPort{netip.MustParseAddrPort("[fd00::1:1]:8080")})
	svc.NodePort = 30080
	snap := snapshot(svc)
	snap.Family = v1.IPv6Protocol
	node := netip.MustParseAddr("fd00::192:168:0:10")
	snap.Node.IPs = []netip.Addr{node}
	b.sync(t, snap, full)
	tr := iptablestest.NewTracer(b.fake, iptablestest.Node{LocalAddrs: []netip.Addr{node}})
	for _, c := range []portalCase{
		{"cluster IP from a pod", pkt("fd00::1:100", "fd00::10", 80, false), []string{"REDIRECT -> ns/web:p internal"}},
		{"cluster IP from the node", pkt("fd00::192:168:0:10", "fd00::10", 80, true), []string{"DNAT " + node.String() + " -> ns/web:p internal"}},
		{"node port from outside", pkt("2001:db8::5", node.String(), 30080, false), []string{"REDIRECT -> ns/web:p internal"}},
	} {
		if got := b.describe(t, tr, c.pkt); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRenderPortalsGolden(t *testing.T) {
	local := fullService(withPolicy(endpoints.Policy{ExternalLocal: true}))
	local.Name = spName("ns", "local", v1.ProtocolTCP)
	dns := newService(spName("kube-system", "dns", v1.ProtocolUDP), "172.30.0.53", nil)
	dns.Port = 53
	var p iptables.Payload
	renderPortals(&p, portalConfig{bindAny: true, bind: netip.IPv4Unspecified(), hostIP: nodeIP,
		clusterCIDR: netip.MustParsePrefix("10.0.0.0/16")},
		[]portal{{svc: dns, internal: 36001, external: 36001}, {svc: local, internal: 36002, external: 36003},
			{svc: fullService(), internal: 36004, external: 36004}})
	got, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "portals.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("rendered portals differ from %s (run with -update to accept):\n%s", golden, got)
	}
	// iptables-save prints the rules back as written (but for quoting every
	// comment), so comparing with a real kernel's dump is meaningful.
	f := iptablestest.New(iptables.IPv4)
	if err := f.Restore(context.Background(), got); err != nil {
		t.Fatalf("the fake refuses the payload: %v", err)
	}
	dump := f.Dump()
	for _, line := range strings.Split(string(got), "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		before, rest, _ := strings.Cut(line, "--comment ")
		comment, after, _ := strings.Cut(rest, " ")
		if saved := before + "--comment \"" + comment + "\" " + after; !strings.Contains(dump, saved+"\n") {
			t.Errorf("rule not printed back as written: %s", line)
		}
	}
}
