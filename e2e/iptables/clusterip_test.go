package iptablese2e

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// clusterIP: a Service whose one endpoint is on node-1 answers pods on
// node-1 (proxied by node-1's kproxy) and on node-2 (proxied by node-2's
// kproxy, then routed to node-1), and its pod sees the caller's own address.
func (s *suite) clusterIP(t *testing.T) {
	web := s.c.AddPod(t, framework.PodSpec{Name: "cip-web", Node: s.c.Nodes[0]})
	svc := s.serve(t, tcpService("cip", nil), web)
	addr := clusterAddr(svc)
	for i, where := range []string{"from a pod on the endpoint's node", "from a pod on another node"} {
		caller := s.callers[i]
		t.Run(where, func(t *testing.T) {
			s.waitAnswered(t, caller, addr)
			r := s.c.Probe(t, caller, tcp(addr, 40))
			if r.Pods[web.Name] != 40 || r.Clients[caller.IP.String()] != 40 {
				t.Errorf("want 40 answers from %s seeing %s (not masqueraded), got %s", web.Name, caller.IP, r.String())
			}
		})
	}
}

// noEndpoints: once a Service loses all its endpoints, connections to it
// are refused at once (REJECT), not left to time out; the pod that still
// runs is no longer reached.
//
// The kernel rate-limits the ICMP errors REJECT sends, per client address
// (net.ipv4.icmp_ratelimit, a burst of about 6 then 1 per second), so a SYN
// whose error was suppressed is refused on its retransmission, a second
// later. That is the kernel's doing and kube-proxy's too: a refusal within
// 2 s (well before the 3 s probe timeout) counts as "at once".
func (s *suite) noEndpoints(t *testing.T) {
	// The 1 s minimum sync period, the informer and a restore.
	const refuseWithin = 3 * time.Second
	web := s.c.AddPod(t, framework.PodSpec{Name: "gone-web", Node: s.c.Nodes[1]})
	svc := s.serve(t, tcpService("gone", nil), web)
	addr := clusterAddr(svc)
	for _, caller := range s.callers {
		s.waitAnswered(t, caller, addr)
	}
	removed := time.Now()
	s.c.SetEndpoints(t, svc)
	once := traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 1, Timeout: 3 * time.Second}
	for _, caller := range s.callers {
		s.waitFor(t, caller, once, "refused", func(r traffic.Result) bool { return r.Refused == 1 })
		took := time.Since(removed).Round(10 * time.Millisecond)
		t.Logf("%s: connections refused %v after the endpoints were removed", caller.Node.Name, took)
		if took > refuseWithin {
			t.Errorf("%s: connections refused only %v after the endpoints were removed, want < %v", caller.Node.Name, took, refuseWithin)
		}
	}
	for _, caller := range s.callers {
		start := time.Now()
		r := s.c.Probe(t, caller, once)
		if took := time.Since(start); r.Refused != 1 || took > 2*time.Second {
			t.Errorf("from %s: want the connection refused at once, got %s after %v", caller.Name, r.String(), took)
		}
		r = s.c.Probe(t, caller, traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 3, Parallel: 1, Timeout: 5 * time.Second})
		if r.Refused != 3 {
			t.Errorf("from %s: want 3 more connections refused, got %s", caller.Name, r.String())
		}
	}
}

// hairpin: a pod reaching itself through its own Service gets an answer,
// masqueraded so that its reply goes back through the node.
func (s *suite) hairpin(t *testing.T) {
	pod := s.c.AddPod(t, framework.PodSpec{Name: "hairpin", Node: s.c.Nodes[0]})
	svc := s.serve(t, tcpService("hairpin", nil), pod)
	addr := clusterAddr(svc)
	s.waitAnswered(t, pod, addr)
	r := s.c.Probe(t, pod, tcp(addr, 20))
	if r.Pods[pod.Name] != 20 {
		t.Fatalf("want 20 answers from %s to itself, got %s", pod.Name, r.String())
	}
	if r.Clients[pod.IP.String()] != 0 {
		t.Errorf("the pod saw its own address %s: hairpin traffic not masqueraded: %s", pod.IP, r.String())
	}
	t.Logf("hairpin: %s", r.String())
}
