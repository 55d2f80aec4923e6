package iptablese2e

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// Addresses outside the cluster that clients route to node-1.
var (
	externalIP = netip.MustParseAddr("203.0.113.10")
	ingressIP  = netip.MustParseAddr("198.51.100.10")
)

// nodePort: an outside client reaches a NodePort Service on either node's
// address; with the Cluster policy both endpoints answer (one of them on
// the other node) and the traffic is masqueraded.
func (s *suite) nodePort(t *testing.T) {
	pods := s.podPerNode(t, "np")
	svc := s.serve(t, tcpService("np", func(sp *corev1.ServiceSpec) { sp.Type = corev1.ServiceTypeNodePort }), pods...)
	client := s.c.Clients[0]
	for _, n := range s.c.Nodes {
		addr := nodePortAddr(n, svc)
		t.Run("to "+n.Name, func(t *testing.T) {
			s.waitAnswered(t, client, addr)
			r := s.c.Probe(t, client, tcp(addr, 40))
			if r.Answered() != 40 || len(r.Pods) != len(pods) {
				t.Errorf("want 40 answers from all of %d endpoints, got %s", len(pods), r.String())
			}
			if r.Clients[client.IP.String()] != 0 {
				t.Errorf("Cluster policy: want the client's address %s masqueraded, got %s", client.IP, r.String())
			}
		})
	}
}

// loadBalancer: a LoadBalancer Service with an external IP, an ingress IP
// and loadBalancerSourceRanges allowing client-1 only. Both clients route
// both IPs to node-1. The ingress IP answers client-1 and drops client-2's
// connections (they time out); the external IP is not subject to the source
// ranges (as in kube-proxy) and answers both.
func (s *suite) loadBalancer(t *testing.T) {
	pods := s.podPerNode(t, "lb")
	allowed, denied := s.c.Clients[0], s.c.Clients[1]
	svc := s.serve(t, tcpService("lb", func(sp *corev1.ServiceSpec) {
		sp.Type = corev1.ServiceTypeLoadBalancer
		sp.ExternalIPs = []string{externalIP.String()}
		sp.LoadBalancerSourceRanges = []string{netip.PrefixFrom(allowed.IP, 32).String()}
	}), pods...)
	s.setIngress(t, svc, ingressIP)
	for _, cl := range s.c.Clients {
		for _, ip := range []netip.Addr{externalIP, ingressIP} {
			s.c.AddRoute(t, cl, netip.PrefixFrom(ip, 32).String(), s.c.Nodes[0].IP)
		}
	}
	ext, lb := netip.AddrPortFrom(externalIP, servicePort), netip.AddrPortFrom(ingressIP, servicePort)
	t.Run("external IP answers every client", func(t *testing.T) {
		for _, cl := range s.c.Clients {
			s.waitAnswered(t, cl, ext)
			if r := s.c.Probe(t, cl, tcp(ext, 20)); r.Answered() != 20 {
				t.Errorf("from %s: want 20 answers, got %s", cl.Name, r.String())
			}
		}
	})
	t.Run("ingress IP answers an allowed source", func(t *testing.T) {
		s.waitAnswered(t, allowed, lb)
		if r := s.c.Probe(t, allowed, tcp(lb, 20)); r.Answered() != 20 || len(r.Pods) != len(pods) {
			t.Errorf("from %s: want 20 answers from all %d endpoints, got %s", allowed.Name, len(pods), r.String())
		}
	})
	t.Run("ingress IP drops other sources", func(t *testing.T) {
		r := s.c.Probe(t, denied, traffic.Probe{Protocol: traffic.TCP, Addr: lb, Count: 5, Timeout: 500 * time.Millisecond})
		if r.TimedOut != 5 {
			t.Errorf("from %s (not in the source ranges): want 5 connections dropped (timed out), got %s", denied.Name, r.String())
		}
	})
}
