package userspacee2e

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// deadListed is how long the killed pod stays in the EndpointSlice, as
// when the endpoints controller has not caught up yet.
const deadListed = 500 * time.Millisecond

// killedEndpoint: one of 3 endpoints of a Service is killed (SIGKILL) while
// a pod holds a connection to each endpoint, and pods on both nodes keep
// connecting; a moment later it is removed from the EndpointSlice.
//   - The connection to the dead pod ends; the two others carry on.
//   - While the dead pod is still listed, kproxy's dials to it fail and are
//     retried on the next endpoint: clients notice nothing.
//   - Once kproxy has the removal, no new connection goes to the dead pod:
//     kubeproxy_userspace_dial_failures_total stops moving and round robin
//     shares the connections evenly between the survivors.
func (s *suite) killedEndpoint(t *testing.T) {
	pods := s.c.AddPods(t, "kill", 3) // kill-1 and kill-3 on node-1, kill-2 on node-2
	victim, survivors := pods[1], []*framework.Pod{pods[0], pods[2]}
	svc := s.serve(t, service("kill", nil), pods...)
	addr := clusterAddr(svc, portTCP)
	for _, caller := range s.callers {
		s.waitFor(t, caller, traffic.Probe{Protocol: traffic.TCP, Addr: addr, Parallel: 1}, "3 connections reaching 3 endpoints",
			func(r traffic.Result) bool { return r.Answered() == 3 && len(r.Pods) == 3 })
	}
	held := holdConns(s.callers[0].NetNS(), addr, 3, 1, syncWait)
	defer held.close()
	if held.answered() != 3 || len(held.pods) != 3 {
		t.Fatalf("want one held connection to each endpoint, got %v (errors %v)", held.pods, held.errs)
	}
	failedBefore := s.dialFailures(t, svc)

	if err := victim.Process().Stop(0); err != nil {
		t.Fatalf("kill %s: %v", victim.Name, err)
	}
	killed := time.Now()
	bg := s.startBackground(addr)
	t.Run("open connections: the dead pod's ends, the others carry on", func(t *testing.T) {
		checkHeld(t, held, victim.Name, "after the kill")
	})
	time.Sleep(time.Until(killed.Add(deadListed)))
	s.c.SetEndpoints(t, svc, framework.ReadyEndpoints(survivors...)...)
	removed := time.Now()
	for i, caller := range s.callers {
		s.waitNoDial(t, s.kps[i], caller, svc, victim.Name)
		t.Logf("%s stopped dialling the dead pod within %v of the removal", s.kps[i].Node.Name, time.Since(removed).Round(10*time.Millisecond))
	}
	during := bg.stop()
	failed := diff(s.dialFailures(t, svc), failedBefore)
	t.Logf("from the kill until kproxy had the removal: %s; failed dials %v (node-1, node-2), each retried on the next endpoint", during.String(), failed)
	if noticed := during.Failed() - kernelLosses(t, during); noticed > 0 {
		t.Errorf("clients noticed the dead endpoint: %s", during.String())
	}
	for i, n := range failed {
		if n == 0 {
			t.Errorf("%s never dialled the dead pod while it was listed: the scenario did not exercise the retry", s.kps[i].Node.Name)
		}
	}

	for i, caller := range s.callers {
		t.Run("after the removal from "+caller.Name, func(t *testing.T) {
			s.checkSurvivors(t, s.kps[i], caller, svc, survivors)
		})
	}
	t.Run("open connections to the survivors carry on", func(t *testing.T) {
		checkHeld(t, held, victim.Name, "after the removal")
	})
}

// waitNoDial waits until 6 sequential connections from caller are all
// answered, none by the dead pod, without kproxy k failing a dial.
func (s *suite) waitNoDial(t *testing.T, k *framework.KProxy, caller *framework.Pod, svc *corev1.Service, dead string) {
	t.Helper()
	addr := clusterAddr(svc, portTCP)
	var last traffic.Result
	done := eventually(syncWait, func() bool {
		failed := portMetric(t, k, metricDialFailures, svc, portTCP)
		last = s.sequential(t, caller, traffic.TCP, addr, 6)
		return last.Answered() == 6 && last.Pods[dead] == 0 && portMetric(t, k, metricDialFailures, svc, portTCP) == failed
	})
	if !done {
		t.Fatalf("%s still dials %s %v after its removal; last probe: %s", k.Node.Name, dead, syncWait, last.String())
	}
}

// checkSurvivors sends 60 sequential connections from caller: exactly 30
// reach each survivor, kproxy k dials nothing else, and its connection
// counter grows by 60.
func (s *suite) checkSurvivors(t *testing.T, k *framework.KProxy, caller *framework.Pod, svc *corev1.Service, survivors []*framework.Pod) {
	failed := portMetric(t, k, metricDialFailures, svc, portTCP)
	opened := portMetric(t, k, metricConnections, svc, portTCP)
	r := s.sequential(t, caller, traffic.TCP, clusterAddr(svc, portTCP), 60)
	if r.Pods[survivors[0].Name] != 30 || r.Pods[survivors[1].Name] != 30 {
		t.Errorf("want 30 connections to each of %s and %s and no other, got %s", survivors[0].Name, survivors[1].Name, r.String())
	}
	if now := portMetric(t, k, metricDialFailures, svc, portTCP); now != failed {
		t.Errorf("%s dialled the removed endpoint again: %s went from %v to %v", k.Node.Name, metricDialFailures, failed, now)
	}
	if now := portMetric(t, k, metricConnections, svc, portTCP); now-opened != 60 {
		t.Errorf("%s: %s grew by %v for 60 connections, want 60", k.Node.Name, metricConnections, now-opened)
	}
}

// checkHeld checks the held connections: the one to the dead pod has ended
// (end of stream or reset, not a timeout), the others still echo.
func checkHeld(t *testing.T, held *heldConns, dead, when string) {
	t.Helper()
	for _, h := range held.conns {
		if h.pod != dead {
			if err := h.echo("still there "+when, connTimeout); err != nil {
				t.Errorf("connection to %s %s: %v", h.pod, when, err)
			}
			continue
		}
		_ = h.conn.SetReadDeadline(time.Now().Add(connTimeout))
		_, err := h.r.ReadString('\n')
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("connection to the dead pod %s %s: want it ended, got %v", dead, when, err)
		}
	}
}

// dialFailures returns every kproxy's kubeproxy_userspace_dial_failures_total
// for svc's TCP port, in node order.
func (s *suite) dialFailures(t *testing.T, svc *corev1.Service) []float64 {
	t.Helper()
	out := make([]float64, len(s.kps))
	for i, k := range s.kps {
		out[i] = portMetric(t, k, metricDialFailures, svc, portTCP)
	}
	return out
}

// background keeps connecting from every caller pod until stopped.
type background struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	total  traffic.Result
}

// startBackground starts, from every caller, rounds of 8 connections (4 at a
// time) to addr.
func (s *suite) startBackground(addr netip.AddrPort) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel}
	for _, caller := range s.callers {
		ns := caller.NetNS()
		b.wg.Go(func() {
			p := traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 8, Parallel: 4, Timeout: connTimeout}
			for ctx.Err() == nil {
				r, err := traffic.Run(context.Background(), p, func(fn func() error) error { return netns.Do(ns, fn) })
				if err != nil {
					r.Other++
					r.Errors = append(r.Errors, err.Error())
				}
				b.mu.Lock()
				merge(&b.total, r)
				b.mu.Unlock()
			}
		})
	}
	return b
}

// stop ends the rounds and returns their tally.
func (b *background) stop() traffic.Result {
	b.cancel()
	b.wg.Wait()
	return b.total
}

// kernelLossShare bounds the share of connections whose handshake may time
// out without it counting against kproxy.
const kernelLossShare = 0.001

// kernelLosses returns how many of r's failures to forgive as the test
// machine's kernel losing the SYN (see e2e/faults/README.md: about 1 in
// 1,000–5,000 new connections to a service address leave the node without
// their NAT, here the portal's REDIRECT): connections whose handshake timed
// out, up to kernelLossShare of those sent. In this mode the kernel, not
// kproxy, answers a SYN that reached the listener, and the portal rules do
// not change during the test, so such a timeout is not kproxy's; refusals,
// resets and timeouts after the handshake always count.
func kernelLosses(t *testing.T, r traffic.Result) int {
	t.Helper()
	n := min(r.DialTimedOut, int(kernelLossShare*float64(r.Sent)))
	if n > 0 {
		t.Logf("%d of %d connections timed out in the handshake: lost by the kernel, not counted", n, r.Sent)
	}
	return n
}
