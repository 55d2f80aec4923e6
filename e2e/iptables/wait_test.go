package iptablese2e

import (
	"net/netip"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// ruleWait bounds how long a change takes to reach traffic: the informer,
// the 1 s minimum sync period and the restore.
const ruleWait = 10 * time.Second

// waitFor repeats a short probe (3 attempts of 300 ms unless p says
// otherwise) until done accepts its result, and returns that result; it fails
// the test after ruleWait (framework.Cluster.WaitProbe).
func (s *suite) waitFor(t *testing.T, from framework.NetNSer, p traffic.Probe, what string, done func(traffic.Result) bool) traffic.Result {
	t.Helper()
	return s.c.WaitProbe(t, from, p, 300*time.Millisecond, ruleWait, what, done)
}

// waitAnswered waits until TCP connections from from to addr are answered.
func (s *suite) waitAnswered(t *testing.T, from framework.NetNSer, addr netip.AddrPort) {
	t.Helper()
	s.waitFor(t, from, traffic.Probe{Protocol: traffic.TCP, Addr: addr}, "answered", func(r traffic.Result) bool {
		return r.Answered() == r.Sent
	})
}

// tcpTimeout bounds one connection of the measuring probes: generous, as
// the machine running the suite may be busy (a connection that gets no
// answer because of a rule fails either way).
const tcpTimeout = 3 * time.Second

// tcp is a TCP probe of n connections to addr.
func tcp(addr netip.AddrPort, n int) traffic.Probe {
	return traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: n, Timeout: tcpTimeout}
}
