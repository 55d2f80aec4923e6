package iptablese2e

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// balanceConns is the number of connections the balancing test spreads.
const balanceConns = 600

// minP is the smallest chi-square p-value the balancing accepts.
const minP = 0.001

// maxLost is how many of the balanced connections may time out on a
// machine so busy (load 10 on 2 cores) that the test process or the echo
// server misses the timeout. The chi-square test runs on those answered.
const maxLost = balanceConns / 100

// threePods adds (once) the three endpoints of the affinity and balancing
// scenarios, spread over the nodes.
func (s *suite) threePods(t *testing.T) []*framework.Pod {
	t.Helper()
	if s.trio == nil {
		s.trio = s.c.AddPods(t, "trio", 3)
	}
	return s.trio
}

// affinity: with sessionAffinity ClientIP, every connection from one client
// lands on the same endpoint, from a pod on either node.
func (s *suite) affinity(t *testing.T) {
	pods := s.threePods(t)
	svc := s.serve(t, tcpService("sticky", func(sp *corev1.ServiceSpec) {
		sp.SessionAffinity = corev1.ServiceAffinityClientIP
	}), pods...)
	addr := clusterAddr(svc)
	for _, caller := range s.callers {
		t.Run("from "+caller.Name, func(t *testing.T) {
			s.waitAnswered(t, caller, addr)
			// One at a time: the first connection must record the choice
			// before the next one is balanced.
			r := s.c.Probe(t, caller, traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 30, Parallel: 1})
			if r.Answered() != 30 || len(r.Pods) != 1 {
				t.Errorf("want 30 answers from one endpoint, got %s", r.String())
			}
		})
	}
}

// balance: 600 connections over 3 endpoints are spread evenly: a
// chi-square goodness-of-fit test against the uniform distribution must
// give p > 0.001.
func (s *suite) balance(t *testing.T) {
	pods := s.threePods(t)
	svc := s.serve(t, tcpService("spread", nil), pods...)
	addr := clusterAddr(svc)
	caller := s.callers[0]
	s.waitFor(t, caller, tcp(addr, 30), "answered by all 3 endpoints", func(r traffic.Result) bool {
		return r.Answered() == r.Sent && len(r.Pods) == len(pods)
	})
	r := s.c.Probe(t, caller, tcp(addr, balanceConns))
	if r.Failed() > 0 {
		t.Logf("%d of %d connections failed: %s", r.Failed(), balanceConns, r.String())
	}
	if r.Refused+r.Reset+r.Other > 0 || r.TimedOut > maxLost {
		t.Fatalf("want %d answers (at most %d lost to a busy machine), got %s", balanceConns, maxLost, r.String())
	}
	counts := make([]int, len(pods))
	for i, p := range pods {
		counts[i] = r.Pods[p.Name]
	}
	chi2, p := chiSquareUniform(counts)
	t.Logf("%d connections: %v; chi-square %.3f (2 degrees of freedom), p = %.4f", r.Answered(), counts, chi2, p)
	if p <= minP {
		t.Errorf("connections not spread evenly: %v gives chi-square %.3f, p = %.5f <= %v", counts, chi2, p, minP)
	}
}
