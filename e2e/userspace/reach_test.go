package userspacee2e

import (
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// source is where traffic comes from and which node's kproxy carries it.
type source struct {
	name  string
	from  framework.NetNSer
	proxy *framework.Node
}

// clusterIP: a Service whose one endpoint is on node-1 answers pods and the
// nodes themselves, on node-1 (through node-1's kproxy) and on node-2
// (through node-2's kproxy, which connects across to node-1). Unlike the
// iptables mode, the endpoint sees the proxying node, not the caller.
func (s *suite) clusterIP(t *testing.T) {
	web := s.c.AddPod(t, framework.PodSpec{Name: "cip-web", Node: s.c.Nodes[0]})
	svc := s.serve(t, service("cip", nil), web)
	addr := clusterAddr(svc, portTCP)
	n1, n2 := s.c.Nodes[0], s.c.Nodes[1]
	for _, src := range []source{
		{"from a pod on the endpoint's node", s.callers[0], n1},
		{"from a pod on another node", s.callers[1], n2},
		{"from the endpoint's node itself", n1, n1},
		{"from another node itself", n2, n2},
	} {
		t.Run(src.name, func(t *testing.T) {
			s.waitAnswered(t, src.from, traffic.TCP, addr)
			r := s.probe(t, src.from, traffic.TCP, addr, 40)
			if r.Pods[web.Name] != 40 {
				t.Errorf("want 40 answers from %s, got %s", web.Name, r.String())
			}
			checkProxiedBy(t, r, src.proxy)
		})
	}
}

// nodePort: a NodePort Service with an endpoint on each node answers on
// either node's address, from pods on both nodes and from the outside
// client; the node that received the traffic balances over both endpoints.
func (s *suite) nodePort(t *testing.T) {
	pods := s.podPerNode(t, "np")
	svc := s.serve(t, service("np", nodePortType), pods...)
	for _, n := range s.c.Nodes {
		addr := nodePortAddr(n, svc, portTCP)
		for _, src := range []source{
			{"from a pod on node-1", s.callers[0], n},
			{"from a pod on node-2", s.callers[1], n},
			{"from outside", s.client, n},
		} {
			t.Run(src.name+" to "+n.Name, func(t *testing.T) {
				s.waitAnswered(t, src.from, traffic.TCP, addr)
				r := s.probe(t, src.from, traffic.TCP, addr, 40)
				if r.Answered() != 40 || len(r.Pods) != len(pods) {
					t.Errorf("want 40 answers from all %d endpoints, got %s", len(pods), r.String())
				}
				checkProxiedBy(t, r, src.proxy)
			})
		}
	}
}

// checkProxiedBy checks that every answering endpoint saw node n's kproxy as
// the client: the userspace proxy opens its own connection to the endpoint.
func checkProxiedBy(t *testing.T, r traffic.Result, n *framework.Node) {
	t.Helper()
	want := nodeAddrs(n)
	for ip := range r.Clients {
		if !want[ip] {
			t.Errorf("an endpoint saw client %s, want %s's %s or %s (kproxy connects itself): %s", ip, n.Name, n.IP, n.PodGateway, r.String())
		}
	}
}
