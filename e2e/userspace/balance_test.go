package userspacee2e

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// roundRobin: 6 sequential connections over 3 endpoints reach each exactly
// twice, whichever node's kproxy carries them and whether they come to the
// cluster IP or to a node port. Each source first waits until 3 sequential
// connections reach the 3 endpoints (all synced), so the cursor may start
// anywhere: a full cycle is exact from any start.
func (s *suite) roundRobin(t *testing.T) {
	pods := s.threePods(t)
	svc := s.serve(t, service("rr", nodePortType), pods...)
	n1, n2 := s.c.Nodes[0], s.c.Nodes[1]
	for _, src := range []struct {
		source
		addr netip.AddrPort
	}{
		{source{"to the cluster IP from a pod on node-1", s.callers[0], n1}, clusterAddr(svc, portTCP)},
		{source{"to the cluster IP from a pod on node-2", s.callers[1], n2}, clusterAddr(svc, portTCP)},
		{source{"to node-1's node port from outside", s.client, n1}, nodePortAddr(n1, svc, portTCP)},
	} {
		k := s.kps[src.proxy.Index-1]
		t.Run(src.name, func(t *testing.T) {
			s.waitFor(t, src.from, traffic.Probe{Protocol: traffic.TCP, Addr: src.addr, Parallel: 1}, "3 connections reaching 3 endpoints",
				func(r traffic.Result) bool { return r.Answered() == 3 && len(r.Pods) == 3 })
			failed := portMetric(t, k, metricDialFailures, svc, portTCP)
			r := s.sequential(t, src.from, traffic.TCP, src.addr, 6)
			for _, p := range pods {
				if r.Pods[p.Name] != 2 {
					t.Errorf("want each of 3 endpoints twice, got %s", r.String())
					break
				}
			}
			if now := portMetric(t, k, metricDialFailures, svc, portTCP); now != failed {
				t.Logf("%s: %v failed dials during the 6 connections: a retry skips an endpoint", k.Node.Name, now-failed)
			}
		})
	}
}

// affinity: with sessionAffinity ClientIP, every connection of a client
// reaches the endpoint its first one reached, sequential or concurrent.
// Affinity is per client: the outside client, proxied by node-1's kproxy
// right after the node-1 pod, is given the next endpoint round robin and
// keeps that one.
func (s *suite) affinity(t *testing.T) {
	pods := s.threePods(t)
	svc := s.serve(t, service("sticky", func(sp *corev1.ServiceSpec) {
		nodePortType(sp)
		sp.SessionAffinity = corev1.ServiceAffinityClientIP
	}), pods...)
	n1, n2 := s.c.Nodes[0], s.c.Nodes[1]
	chosen := map[string]string{} // source name → its endpoint
	sources := []struct {
		source
		addr netip.AddrPort
	}{
		{source{"a pod on node-1", s.callers[0], n1}, clusterAddr(svc, portTCP)},
		{source{"the outside client through node-1", s.client, n1}, nodePortAddr(n1, svc, portTCP)},
		{source{"a pod on node-2", s.callers[1], n2}, clusterAddr(svc, portTCP)},
	}
	for _, src := range sources {
		t.Run("from "+src.name, func(t *testing.T) {
			s.waitAnswered(t, src.from, traffic.TCP, src.addr)
			seq := s.sequential(t, src.from, traffic.TCP, src.addr, 30)
			par := s.probe(t, src.from, traffic.TCP, src.addr, 30)
			if seq.Answered() != 30 || len(seq.Pods) != 1 || par.Answered() != 30 || len(par.Pods) != 1 || seq.PodNames()[0] != par.PodNames()[0] {
				t.Fatalf("want 30 sequential and 30 concurrent answers all from one endpoint, got %s and %s", seq.String(), par.String())
			}
			chosen[src.name] = seq.PodNames()[0]
			t.Logf("sticks to %s", chosen[src.name])
		})
	}
	if a, b := chosen[sources[0].name], chosen[sources[1].name]; a != "" && a == b {
		t.Errorf("two clients of node-1's kproxy share endpoint %s: want the second one given the next endpoint round robin", a)
	}
}
