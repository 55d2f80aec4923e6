package iptablestest

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

const nodeIP = "192.168.0.10"

// traceRules is a small kube-proxy-like ruleset:
//   - 10.96.0.10:80 (web) has three endpoints picked with statistic
//     matches, and NodePort 30080;
//   - 10.96.0.12:80 has no endpoints and is rejected;
//   - 10.96.0.13:53/udp is dropped;
//   - 10.96.0.20:80 is redirected to a local proxy port (userspace style);
//   - cluster IPs in the ipset KUBE-CLUSTER-IP are accepted (ipvs style).
//
// Traffic from outside the pod network 10.244.0.0/16 and hairpin traffic
// is marked 0x4000 and masqueraded in KUBE-POSTROUTING.
var traceRules = lines(
	"*nat",
	":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]", ":KUBE-MARK-MASQ - [0:0]",
	":KUBE-SVC-WEB - [0:0]", ":KUBE-EXT-WEB - [0:0]",
	":KUBE-SEP-1 - [0:0]", ":KUBE-SEP-2 - [0:0]", ":KUBE-SEP-3 - [0:0]",
	"-A PREROUTING -m comment --comment portals -j KUBE-SERVICES",
	"-A OUTPUT -m comment --comment portals -j KUBE-SERVICES",
	"-A POSTROUTING -j KUBE-POSTROUTING",
	"-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
	"-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
	"-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
	"-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully",
	"-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment \"ns/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-WEB",
	"-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 36000",
	"-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ",
	"-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
	"-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
	"-A KUBE-NODEPORTS -p tcp -m tcp --dport 30080 -j KUBE-EXT-WEB",
	"-A KUBE-EXT-WEB -j KUBE-MARK-MASQ",
	"-A KUBE-EXT-WEB -j KUBE-SVC-WEB",
	"-A KUBE-SVC-WEB ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ",
	"-A KUBE-SVC-WEB -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-1",
	"-A KUBE-SVC-WEB -m statistic --mode random --probability 0.5 -j KUBE-SEP-2",
	"-A KUBE-SVC-WEB -j KUBE-SEP-3",
	"-A KUBE-SEP-1 -s 10.244.2.1/32 -j KUBE-MARK-MASQ",
	"-A KUBE-SEP-1 -p tcp -m tcp -j DNAT --to-destination 10.244.2.1:8080",
	"-A KUBE-SEP-2 -s 10.244.2.2/32 -j KUBE-MARK-MASQ",
	"-A KUBE-SEP-2 -p tcp -m tcp -j DNAT --to-destination 10.244.2.2:8080",
	"-A KUBE-SEP-3 -s 10.244.2.3/32 -j KUBE-MARK-MASQ",
	"-A KUBE-SEP-3 -p tcp -m tcp -j DNAT --to-destination 10.244.2.3:8080",
	"COMMIT",
	"*filter",
	":KUBE-SERVICES - [0:0]", ":KUBE-FIREWALL - [0:0]",
	"-A INPUT -j KUBE-FIREWALL",
	"-A FORWARD -m conntrack --ctstate NEW -j KUBE-SERVICES",
	"-A OUTPUT -m conntrack --ctstate NEW -j KUBE-SERVICES",
	"-A KUBE-SERVICES -d 10.96.0.12/32 -p tcp -m comment --comment \"ns/empty:http has no endpoints\" -m tcp --dport 80 -j REJECT",
	"-A KUBE-SERVICES -d 10.96.0.13/32 -p udp -m udp --dport 53 -j DROP",
	"-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
	"COMMIT",
)

var traceSets = IPSetMap{
	"KUBE-CLUSTER-IP": {Type: "hash:ip,port", Members: []string{"10.96.0.30,tcp:80", "10.96.0.31,udp:53"}},
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestTrace(t *testing.T) {
	f := New(iptables.IPv4)
	f.UseIPSets(traceSets)
	restore(t, f, traceRules)
	tr := NewTracer(f, Node{LocalAddrs: []netip.Addr{addr(nodeIP)}})
	web := []string{"DNAT 10.244.2.1:8080", "DNAT 10.244.2.2:8080", "DNAT 10.244.2.3:8080"}
	webMasq := []string{"DNAT 10.244.2.1:8080 masq", "DNAT 10.244.2.2:8080 masq", "DNAT 10.244.2.3:8080 masq"}
	cases := []struct {
		name  string
		src   string
		proto string
		dst   string
		port  uint16
		local bool
		want  []string
	}{
		{"pod to cluster IP reaches every endpoint", "10.244.1.5", "tcp", "10.96.0.10", 80, false, web},
		{"outside to cluster IP is masqueraded", "192.168.1.50", "tcp", "10.96.0.10", 80, false, webMasq},
		{"hairpin is masqueraded to itself only", "10.244.2.1", "tcp", "10.96.0.10", 80, false,
			[]string{"DNAT 10.244.2.1:8080 masq", "DNAT 10.244.2.2:8080", "DNAT 10.244.2.3:8080"}},
		{"node to cluster IP", nodeIP, "tcp", "10.96.0.10", 80, true, webMasq},
		{"wrong port of a cluster IP", "10.244.1.5", "tcp", "10.96.0.10", 81, false, []string{"ACCEPT"}},
		{"wrong protocol of a cluster IP", "10.244.1.5", "udp", "10.96.0.10", 80, false, []string{"ACCEPT"}},
		{"node port from outside", "192.168.1.50", "tcp", nodeIP, 30080, false, webMasq},
		{"node port from the node", nodeIP, "tcp", nodeIP, 30080, true, webMasq},
		{"node port on a foreign address", "192.168.1.50", "tcp", "192.168.0.99", 30080, false, []string{"ACCEPT"}},
		{"service without endpoints from a pod", "10.244.1.5", "tcp", "10.96.0.12", 80, false, []string{"REJECT"}},
		{"service without endpoints from the node", nodeIP, "tcp", "10.96.0.12", 80, true, []string{"REJECT"}},
		{"dropped service", "10.244.1.5", "udp", "10.96.0.13", 53, false, []string{"DROP"}},
		{"redirect to a local proxy", "10.244.1.5", "tcp", "10.96.0.20", 80, false, []string{"REDIRECT :36000"}},
		{"redirect from the node", nodeIP, "tcp", "10.96.0.20", 80, true, []string{"REDIRECT :36000"}},
		{"ipset cluster IP from a pod", "10.244.1.5", "tcp", "10.96.0.30", 80, false, []string{"ACCEPT"}},
		{"ipset cluster IP from outside", "192.168.1.50", "tcp", "10.96.0.30", 80, false, []string{"ACCEPT masq"}},
		{"ipset port and protocol must match", "192.168.1.50", "udp", "10.96.0.30", 80, false, []string{"ACCEPT"}},
		{"outside to localhost is dropped", "192.168.1.50", "tcp", "127.0.0.1", 80, false, []string{"DROP"}},
		{"unrelated traffic passes", "10.244.1.5", "tcp", "8.8.8.8", 443, false, []string{"ACCEPT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tr.Trace(Packet{Source: addr(c.src), SourcePort: 40000, Protocol: c.proto,
				Dest: addr(c.dst), DestPort: c.port, Local: c.local})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Strings(), c.want) {
				t.Fatalf("got %q\nwant %q", got.Strings(), c.want)
			}
		})
	}
}

func TestTraceTargets(t *testing.T) {
	cases := []struct {
		name   string
		family iptables.Family
		rules  []string // nat table, after a jump from PREROUTING to C
		src    string
		dst    string
		want   []string
	}{
		{"IPv6 DNAT", iptables.IPv6, []string{"-A C -p tcp -j DNAT --to-destination [fd00::5]:8080"}, "fd00::9", "fd00::1",
			[]string{"DNAT [fd00::5]:8080"}},
		{"DNAT without a port keeps the port", iptables.IPv4, []string{"-A C -j DNAT --to-destination 10.0.0.5"}, "10.1.0.1", "10.0.0.1",
			[]string{"DNAT 10.0.0.5:80"}},
		{"certain probability is not a branch", iptables.IPv4, []string{
			"-A C -m statistic --mode random --probability 1 -p tcp -j DNAT --to-destination 10.0.0.5:1",
			"-A C -p tcp -j DNAT --to-destination 10.0.0.6:1"}, "10.1.0.1", "10.0.0.1",
			[]string{"DNAT 10.0.0.5:1"}},
		{"recent goes both ways", iptables.IPv4, []string{
			"-A C -m recent --rcheck --name sticky -p tcp -j DNAT --to-destination 10.0.0.5:1",
			"-A C -p tcp -j DNAT --to-destination 10.0.0.6:1"}, "10.1.0.1", "10.0.0.1",
			[]string{"DNAT 10.0.0.5:1", "DNAT 10.0.0.6:1"}},
		{"goto does not come back", iptables.IPv4, []string{
			"-A C -g D", "-A C -p tcp -j DNAT --to-destination 10.0.0.6:1", "-A D -j RETURN"}, "10.1.0.1", "10.0.0.1",
			[]string{"ACCEPT"}},
		{"mark set and tested", iptables.IPv4, []string{
			"-A C -j MARK --set-xmark 0x10/0xff", "-A C -m mark --mark 0x10/0xff -p tcp -j DNAT --to-destination 10.0.0.5:1"},
			"10.1.0.1", "10.0.0.1", []string{"DNAT 10.0.0.5:1"}},
		{"interface match", iptables.IPv4, []string{
			"-A C -i eth+ -p tcp -j DNAT --to-destination 10.0.0.5:1", "-A C -p tcp -j DNAT --to-destination 10.0.0.6:1"},
			"10.1.0.1", "10.0.0.1", []string{"DNAT 10.0.0.5:1"}},
		{"nested statistic chains", iptables.IPv4, []string{
			"-A C -m statistic --mode random --probability 0.5 -j D",
			"-A C -p tcp -j DNAT --to-destination 10.0.0.3:1",
			"-A D -m statistic --mode random --probability 0.5 -p tcp -j DNAT --to-destination 10.0.0.1:1",
			"-A D -m statistic --mode random --probability 0.5 -j RETURN",
			"-A D -p tcp -j DNAT --to-destination 10.0.0.2:1"}, "10.1.0.1", "10.0.0.1",
			[]string{"DNAT 10.0.0.1:1", "DNAT 10.0.0.2:1", "DNAT 10.0.0.3:1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := New(c.family)
			restore(t, f, lines(append(append([]string{"*nat", ":C - [0:0]", ":D - [0:0]", "-A PREROUTING -j C"}, c.rules...), "COMMIT")...))
			got, err := NewTracer(f, Node{}).Trace(Packet{Source: addr(c.src), Protocol: "tcp", Dest: addr(c.dst), DestPort: 80})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Strings(), c.want) {
				t.Fatalf("got %q\nwant %q", got.Strings(), c.want)
			}
		})
	}
}

func TestTraceErrors(t *testing.T) {
	cases := []struct {
		name string
		rule string
		want string
	}{
		{"unknown match", "-A C -m physdev --physdev-is-in -j ACCEPT", `does not understand match "physdev"`},
		{"unknown target", "-A C -j CONNMARK --set-mark 1", "does not understand target CONNMARK"},
		{"unsupported addrtype", "-A C -m addrtype --dst-type BROADCAST -j ACCEPT", "only understands addrtype LOCAL"},
		{"missing set", "-A C -m set --match-set NOPE dst -j ACCEPT", "no ipsets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := New(iptables.IPv4)
			restore(t, f, lines("*nat", ":C - [0:0]", "-A PREROUTING -j C", c.rule, "COMMIT"))
			_, err := NewTracer(f, Node{}).Trace(Packet{Source: addr("10.0.0.1"), Protocol: "tcp", Dest: addr("10.0.0.2"), DestPort: 80})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	f := New(iptables.IPv4)
	tr := NewTracer(f, Node{})
	for _, p := range []Packet{
		{Source: addr("10.0.0.1"), Protocol: "icmp", Dest: addr("10.0.0.2")},
		{Source: addr("fd00::1"), Protocol: "tcp", Dest: addr("fd00::2")},
		{Source: addr("10.0.0.1"), Protocol: "tcp"},
	} {
		if _, err := tr.Trace(p); err == nil {
			t.Errorf("packet %+v was traced", p)
		}
	}
}

// The synthetic ruleset behaves: every endpoint is reachable.
func TestTraceSynthetic(t *testing.T) {
	for _, fam := range []iptables.Family{iptables.IPv4, iptables.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			syn := Synthetic{Family: fam, Services: 50, Endpoints: 4}
			var p iptables.Payload
			syn.Write(&p)
			payload, err := p.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			f := New(fam)
			restore(t, f, string(payload))
			if err := syn.Bootstrap(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			src := syn.EndpointIP(0, 0)
			got, err := NewTracer(f, Node{}).Trace(Packet{Source: src, Protocol: "tcp", Dest: syn.ServiceIP(42), DestPort: 80})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for j := 0; j < syn.Endpoints; j++ {
				want = append(want, "DNAT "+netip.AddrPortFrom(syn.EndpointIP(42, j), 8080).String())
			}
			if !slices.Equal(got.Strings(), want) {
				t.Fatalf("got %q\nwant %q", got.Strings(), want)
			}
		})
	}
}
