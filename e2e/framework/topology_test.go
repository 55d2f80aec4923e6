package framework

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// TestTopology checks the simulated network without a control plane: pods
// reach pods on other nodes unmasqueraded, clients reach node IPs but not
// pods, and the probe tells answers from refusals.
func TestTopology(t *testing.T) {
	c := New(t, Options{Nodes: 2, NoControlPlane: true})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	a := c.AddPod(t, PodSpec{Name: "a", Node: n1})
	b := c.AddPod(t, PodSpec{Name: "b", Node: n2})
	a2 := c.AddPod(t, PodSpec{Name: "a2", Node: n1})
	c.AddPod(t, PodSpec{Name: "host-2", Node: n2, HostNetwork: true})
	client := c.Clients[0]

	at := func(ip netip.Addr, port int) netip.AddrPort { return netip.AddrPortFrom(ip, uint16(port)) }
	cases := []struct {
		name     string
		from     NetNSer
		protocol string
		to       netip.AddrPort
		pod      string // answering pod, "" when no answer is expected
		clientIP netip.Addr
	}{
		{"pod to pod across nodes, tcp", a, traffic.TCP, at(b.IP, EchoTCPPort), "b", a.IP},
		{"pod to pod across nodes, udp", a, traffic.UDP, at(b.IP, EchoUDPPort), "b", a.IP},
		{"pod to pod across nodes, http", b, traffic.HTTP, at(a.IP, EchoHTTPPort), "a", b.IP},
		{"pod to pod on one node", a, traffic.TCP, at(a2.IP, EchoTCPPort), "a2", a.IP},
		{"node to remote pod", n1, traffic.TCP, at(b.IP, EchoTCPPort), "b", n1.IP},
		{"pod to host-network pod", a, traffic.TCP, at(n2.IP, EchoTCPPort), "host-2", a.IP},
		{"client to node", client, traffic.TCP, at(n2.IP, EchoTCPPort), "host-2", client.IP},
		{"client to pod is unroutable", client, traffic.TCP, at(b.IP, EchoTCPPort), "", netip.Addr{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Probe(t, tc.from, traffic.Probe{Protocol: tc.protocol, Addr: tc.to, Count: 20})
			if tc.pod == "" {
				if r.Answered() != 0 {
					t.Errorf("expected no answer, got %s", r.String())
				}
				return
			}
			if r.Pods[tc.pod] != 20 || r.Clients[tc.clientIP.String()] != 20 {
				t.Errorf("want 20 answers from %s seeing %s, got %s", tc.pod, tc.clientIP, r.String())
			}
		})
	}

	t.Run("same-node traffic is routed by the node both ways", func(t *testing.T) {
		for _, rule := range [][2]string{{a.IP.String(), a2.IP.String()}, {a2.IP.String(), a.IP.String()}} {
			c.Exec(t, n1, "iptables", "-w", "-A", "FORWARD", "-s", rule[0], "-d", rule[1], "-j", "ACCEPT")
		}
		r := c.Probe(t, a, traffic.Probe{Protocol: traffic.TCP, Addr: at(a2.IP, EchoTCPPort), Count: 20})
		if r.Pods["a2"] != 20 {
			t.Fatalf("same-node probe: %s", r.String())
		}
		out := c.Exec(t, n1, "iptables", "-w", "-L", "FORWARD", "-v", "-x", "-n")
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 9 && f[2] == "ACCEPT" && f[0] == "0" {
				t.Errorf("no packet crossed the node's FORWARD chain from %s to %s:\n%s", f[7], f[8], out)
			}
		}
	})

	t.Run("600 connections and 600 datagrams", func(t *testing.T) {
		for _, proto := range []string{traffic.TCP, traffic.UDP} {
			start := time.Now()
			r := c.Probe(t, a, traffic.Probe{Protocol: proto, Addr: at(b.IP, EchoTCPPort), Count: 600})
			if r.Pods["b"] != 600 {
				t.Errorf("%s: %s", proto, r.String())
			}
			t.Logf("MEASURE: 600 %s attempts in %v", proto, time.Since(start).Round(time.Millisecond))
		}
	})

	t.Run("refused", func(t *testing.T) {
		r := c.Probe(t, a, traffic.Probe{Protocol: traffic.TCP, Addr: at(b.IP, 9), Count: 5})
		if r.Refused != 5 {
			t.Errorf("want 5 refused, got %s", r.String())
		}
	})
	t.Run("removed pod", func(t *testing.T) {
		c.RemovePod(t, a2, 0)
		r := c.Probe(t, a, traffic.Probe{Protocol: traffic.TCP, Addr: at(a2.IP, EchoTCPPort), Count: 2, Timeout: 300 * time.Millisecond})
		if r.Answered() != 0 {
			t.Errorf("removed pod answered: %s", r.String())
		}
	})
}
