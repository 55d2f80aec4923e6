package userspacee2e

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// The load scenario's sizes.
const (
	// loadConns TCP connections are open through kproxy at once.
	loadConns = 1000
	// loadDialers connect them, each from its own thread in the caller's
	// namespace: up to loadDialers handshakes are in flight at a time.
	loadDialers = 50
	// loadSessions UDP datagrams, each from a new source port, open as many
	// UDP sessions.
	loadSessions = 500
	// loadWait bounds the whole exchange of the 1,000 connections.
	loadWait = 30 * time.Second
)

// load: 1,000 TCP connections from one pod are open through node-1's kproxy
// at once, each answered (the echo server's greeting, then a line echoed
// back through the relay); round robin spreads them 333/333/334, and while
// they idle kproxy holds two sockets per connection, no goroutine (the relay
// loops carry them) and no splice pipe. 500 UDP sessions follow. Once the connections are closed
// and the sessions expired, kproxy holds no more descriptors or goroutines
// than before (see leak_test.go for how that is measured).
func (s *suite) load(t *testing.T) {
	pods := s.c.AddPods(t, "load", 3)
	svc := s.serve(t, service("load", nil, corev1.ProtocolTCP, corev1.ProtocolUDP), pods...)
	tcpAddr, udpAddr := clusterAddr(svc, portTCP), clusterAddr(svc, portUDP)
	caller, k := s.callers[0], s.kps[0]
	s.waitFor(t, caller, traffic.Probe{Protocol: traffic.TCP, Addr: tcpAddr, Parallel: 1}, "3 connections reaching 3 endpoints",
		func(r traffic.Result) bool { return r.Answered() == 3 && len(r.Pods) == 3 })
	s.waitAnswered(t, caller, traffic.UDP, udpAddr)
	waitIdle(t, k, svc, portTCP)
	waitIdle(t, k, svc, portUDP)
	before := s.settledAll(t)

	failed := portMetric(t, k, metricDialFailures, svc, portTCP)
	start := time.Now()
	held := holdConns(caller.NetNS(), tcpAddr, loadConns, loadDialers, loadWait)
	took := time.Since(start)
	defer held.close()
	active := portMetric(t, k, metricActive, svc, portTCP)
	peak := settled(t, k)
	t.Logf("%d concurrent connections: %d answered in %v (connect, greeting, echo): %v; %s relays %v; kproxy holds %s (before: %s)",
		loadConns, held.answered(), took.Round(time.Millisecond), held.pods, k.Node.Name, active, peak, before[0])
	if len(held.errs) > 0 {
		t.Errorf("%d of %d connections not answered, e.g. %v", len(held.errs), loadConns, held.errs[0])
	}
	if active != loadConns {
		t.Errorf("%s{service_port=%q} = %v with %d connections open, want %d", metricActive, portLabel(svc, portTCP), active, loadConns, loadConns)
	}
	checkIdleCost(t, before[0], peak, held.answered())
	if portMetric(t, k, metricDialFailures, svc, portTCP) == failed {
		for _, p := range pods {
			if n := held.pods[p.Name]; n < loadConns/3 || n > loadConns/3+1 {
				t.Errorf("round robin: want %d or %d connections per endpoint, got %v", loadConns/3, loadConns/3+1, held.pods)
				break
			}
		}
	}

	r := s.c.Probe(t, caller, traffic.Probe{Protocol: traffic.UDP, Addr: udpAddr, Count: loadSessions, Parallel: 50, Timeout: connTimeout})
	sessions := portMetric(t, k, metricActive, svc, portUDP)
	t.Logf("%d UDP datagrams from new source ports: %s; %v sessions right after", loadSessions, r.String(), sessions)
	if r.Answered() != loadSessions {
		t.Errorf("want %d UDP replies, got %s", loadSessions, r.String())
	}

	held.close()
	waitIdle(t, k, svc, portTCP)
	waitIdle(t, k, svc, portUDP)
	s.checkNoLeak(t, before)
}

// checkIdleCost checks what n idle relayed connections cost kproxy beyond
// before: two sockets each (the client's and the endpoint's), no goroutine
// (a few relay loops carry every connection), and no splice pipe
// (modes/userspace/README.md, TCP). The slack allows for the rest of the
// process moving meanwhile (a scrape's connection, a sync).
func checkIdleCost(t *testing.T, before, peak usage, n int) {
	t.Helper()
	const slack = 10
	near := func(got int) bool { return got >= 2*n-slack && got <= 2*n+slack }
	if got := peak.fds - peak.pipes() - (before.fds - before.pipes()); !near(got) {
		t.Errorf("%d idle connections hold %d descriptors besides pipes, want 2 each", n, got)
	}
	if got := peak.goroutines - before.goroutines; got > slack {
		t.Errorf("%d idle connections hold %d goroutines, want none", n, got)
	}
	if peak.pipes() > before.pipes() {
		t.Errorf("%d idle connections hold %d pipe descriptors (%d before), want none", n, peak.pipes(), before.pipes())
	}
}
