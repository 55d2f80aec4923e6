package userspace

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// closed is how a connection to a listener without endpoints ends: the
// listener accepts it and resets it at once (TCP) or drops the datagram (UDP),
// where the iptables mode rejects or drops it.
const closed = "closed"

// knownDifferences are the shared cases where the userspace mode knowingly
// differs from the iptables mode, with what it does instead.
var knownDifferences = map[string]string{
	// The nat table cannot drop: traffic from outside the source ranges is not
	// intercepted and goes on to the load-balancer IP itself.
	"load-balancer IP from a source outside the ranges": "ACCEPT",
}

// TestPacketFlow programs kproxy's standard packet-flow scenario and traces
// every case through the fake into the listener it reaches, whose endpoints
// must be the ones the case expects. The proxy, not the client, connects to the
// endpoint, so every forwarded connection counts as masqueraded.
func TestPacketFlow(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		t.Run(string(family), func(t *testing.T) {
			s := packetflow.Standard(family, false)
			bind := "0.0.0.0"
			if family == v1.IPv6Protocol {
				bind = "::"
			}
			b := newPortalBackend(t, family, bind, func(o *Options) { o.ClusterCIDRs = []netip.Prefix{s.ClusterCIDR} })
			b.sync(t, s.Snapshot, full)
			tr := iptablestest.NewTracer(b.fake, iptablestest.Node{LocalAddrs: s.NodeIPs})
			for _, c := range s.Cases {
				got := b.traceCase(t, tr, c, s.NodeIPs[0])
				want := expected(c)
				if d, ok := knownDifferences[c.Name]; ok {
					want = []string{d}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s %s -> %s:%d: got [%s], want [%s]", c.Name, c.Protocol, c.Source, c.Dest, c.Port,
						strings.Join(got, ", "), strings.Join(want, ", "))
				}
			}
			if t.Failed() {
				t.Logf("rules:\n%s", b.fake.Dump())
			}
		})
	}
}

// traceCase traces one case and returns where it ends: the endpoints of the
// listener it reaches, "closed" for a listener without endpoints, or the
// tracer's verdict when no portal intercepts it.
func (tb *testBackend) traceCase(t *testing.T, tr *iptablestest.Tracer, c packetflow.Case, node netip.Addr) []string {
	t.Helper()
	outs, err := tr.Trace(iptablestest.Packet{Source: c.Source, SourcePort: 40000,
		Protocol: strings.ToLower(string(c.Protocol)), Dest: c.Dest, DestPort: c.Port, Local: c.Local})
	if err != nil {
		t.Fatalf("%s: trace: %v", c.Name, err)
	}
	var got []string
	for _, o := range outs {
		if o.Verdict != iptablestest.Redirect && o.Verdict != iptablestest.DNAT {
			got = append(got, o.String())
			continue
		}
		if o.Verdict == iptablestest.DNAT && o.To.Addr() != node {
			t.Errorf("%s: DNAT to %s, want the node address %s", c.Name, o.To, node)
		}
		l, _ := tb.findListener(int(o.To.Port()))
		if l == nil {
			t.Errorf("%s: sent to port %d, where nothing listens", c.Name, o.To.Port())
			continue
		}
		eps := endpointsOf(l)
		if len(eps) == 0 {
			got = append(got, closed)
		}
		for _, ep := range eps {
			got = append(got, ep.String()+" masq")
		}
	}
	slices.Sort(got)
	return slices.Compact(got)
}

// expected returns a case's outcomes as the userspace mode produces them.
func expected(c packetflow.Case) []string {
	if c.Verdict != packetflow.Forwarded {
		return []string{closed}
	}
	var want []string
	for _, ep := range c.Endpoints {
		want = append(want, ep.String()+" masq")
	}
	slices.Sort(want)
	return want
}

// endpointsOf returns the endpoints a listener balances over.
func endpointsOf(l listener) []netip.AddrPort {
	var p *pool
	switch l := l.(type) {
	case *tcpListener:
		p = l.pool
	case *udpListener:
		p = l.pool
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.eps)
}
