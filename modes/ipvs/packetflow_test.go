package ipvsmode_test

import (
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/modes/ipvs/ipvstest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// ipvsDifferences are the shared cases where IPVS mode, like upstream's, does not
// do what the iptables mode does, with the reason. Each maps a case name to the
// outcomes IPVS mode gives, written with the scenario's IPv4 addresses.
var ipvsDifferences = map[string]struct {
	why  string
	want []string
}{
	// A virtual server without real servers answers "port unreachable" (ip_vs_leave):
	// the iptables mode drops in these cases.
	"internal policy Local, no local endpoint": {"IPVS rejects when no real server is left", []string{"REJECT"}},
	// One virtual server per node address serves pods and outside clients alike:
	// externalTrafficPolicy Local cannot tell them apart.
	"node port, external policy Local, from a pod":    {"one virtual server for every client", []string{"10.0.1.4:80"}},
	"node port, external policy Local, from the node": {"one virtual server for every client; Local ports are not masqueraded", []string{"10.0.1.4:80"}},
	// Without a local endpoint, Local falls back to the cluster endpoints so pods of
	// the node keep reaching the service (kubernetes#97081); outside clients are
	// forwarded without masquerading, as upstream does.
	"node port, external policy Local, no local endpoint": {"falls back to cluster endpoints (kubernetes#97081)", []string{"10.0.2.5:80"}},
}

// TestPacketFlow programs the shared standard scenario and traces every case
// through the iptables rules, ipsets, kube-ipvs0 and virtual servers, for both
// families, with and without --masquerade-all.
func TestPacketFlow(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		for _, masqAll := range []bool{false, true} {
			s := packetflow.Standard(family, masqAll)
			name := string(family)
			if masqAll {
				name += "/masquerade-all"
			}
			t.Run(name, func(t *testing.T) {
				k := newKernel(t, family, s.NodeIPs...)
				b := newBackend(t, k, withScenario(s))
				mustSync(t, b, s.Snapshot, full)
				tr := ipvstest.NewTracer(k.ipvs, k.ipt, k.sets, k.nl, 0x4000)
				a := packetflow.Addresses{Family: family}
				for _, c := range s.Cases {
					got, err := traceCase(tr, c)
					if err != nil {
						t.Errorf("%s: %v", c.Name, err)
						continue
					}
					want := packetflow.Format(c.Want())
					if d, ok := ipvsDifferences[c.Name]; ok {
						want = expected(a, d.want)
					}
					if got != want {
						t.Errorf("%s: %s %s -> %s:%d: got [%s], want [%s]", c.Name, c.Protocol, c.Source, c.Dest, c.Port, got, want)
					}
				}
				if t.Failed() {
					t.Logf("state:\n%s", k.state())
				}
			})
		}
	}
}

// TestPacketFlowDifferencesExist keeps ipvsDifferences in step with the shared cases.
func TestPacketFlowDifferencesExist(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	for name := range ipvsDifferences {
		if !slices.ContainsFunc(s.Cases, func(c packetflow.Case) bool { return c.Name == name }) {
			t.Errorf("difference %q names no shared case", name)
		}
	}
}

// withScenario sets the options a scenario assumes.
func withScenario(s packetflow.Scenario) func(*ipvsmode.Options) {
	return func(o *ipvsmode.Options) {
		o.ClusterCIDRs = append(o.ClusterCIDRs, s.ClusterCIDR)
		o.MasqueradeAll = s.MasqueradeAll
	}
}

// traceCase traces one case and formats the outcomes as packetflow does.
func traceCase(tr *ipvstest.Tracer, c packetflow.Case) (string, error) {
	outs, err := tr.Trace(ipvstest.Packet{Source: c.Source, Protocol: strings.ToLower(string(c.Protocol)),
		Dest: c.Dest, Port: c.Port, Local: c.Local})
	if err != nil {
		return "", err
	}
	var got []packetflow.Outcome
	for _, o := range outs {
		switch o.Verdict {
		case ipvstest.Forward:
			got = append(got, packetflow.Outcome{Endpoint: o.To, Masquerade: o.Masquerade})
		case ipvstest.Reject:
			got = append(got, packetflow.Outcome{Verdict: packetflow.Rejected})
		case ipvstest.Drop:
			got = append(got, packetflow.Outcome{Verdict: packetflow.Dropped})
		default:
			got = append(got, packetflow.Outcome{Verdict: "DELIVERED TO THE NODE"})
		}
	}
	return packetflow.Format(packetflow.SortOutcomes(got)), nil
}

// expected maps outcomes written with IPv4 addresses to the family and formats them.
func expected(a packetflow.Addresses, outs []string) string {
	var os []packetflow.Outcome
	for _, o := range outs {
		switch o {
		case "REJECT":
			os = append(os, packetflow.Outcome{Verdict: packetflow.Rejected})
		case "DROP":
			os = append(os, packetflow.Outcome{Verdict: packetflow.Dropped})
		default:
			ep, masq := strings.CutSuffix(o, " masq")
			os = append(os, packetflow.Outcome{Endpoint: a.AddrPort(ep), Masquerade: masq})
		}
	}
	return packetflow.Format(packetflow.SortOutcomes(os))
}

// TestPacketFlowIPVSOnly traces what only IPVS mode has: the filter that refuses
// the ports of service addresses that are not services, since those addresses
// are bound to the node.
func TestPacketFlowIPVSOnly(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	k := newKernel(t, v1.IPv4Protocol, s.NodeIPs...)
	b := newBackend(t, k, withScenario(s))
	mustSync(t, b, s.Snapshot, full)
	tr := ipvstest.NewTracer(k.ipvs, k.ipt, k.sets, k.nl, 0x4000)
	pod, outside := ip("10.0.1.100"), ip("203.0.113.5")
	for _, tc := range []struct {
		name string
		p    ipvstest.Packet
		want string
	}{
		{"other port of a cluster IP", ipvstest.Packet{Source: pod, Protocol: "tcp", Dest: ip("172.30.0.41"), Port: 22}, "REJECT"},
		{"UDP to a TCP service's port", ipvstest.Packet{Source: pod, Protocol: "udp", Dest: ip("172.30.0.41"), Port: 80}, "REJECT"},
		{"other port of an external IP", ipvstest.Packet{Source: outside, Protocol: "tcp", Dest: ip("192.168.99.11"), Port: 443}, "REJECT"},
		{"health check port on a load-balancer IP", ipvstest.Packet{Source: outside, Protocol: "tcp", Dest: ip("5.6.7.9"), Port: 30012}, "DELIVER"},
		{"other port of the node", ipvstest.Packet{Source: outside, Protocol: "tcp", Dest: ip("192.168.0.10"), Port: 22}, "DELIVER"},
		{"a pod directly", ipvstest.Packet{Source: pod, Protocol: "tcp", Dest: ip("10.0.2.1"), Port: 8080}, "10.0.2.1:8080"},
	} {
		outs, err := tr.Trace(tc.p)
		var got []string
		for _, o := range outs {
			got = append(got, o.String())
		}
		if err != nil || strings.Join(got, ", ") != tc.want {
			t.Errorf("%s: got [%s] %v, want [%s]", tc.name, strings.Join(got, ", "), err, tc.want)
		}
	}
}
