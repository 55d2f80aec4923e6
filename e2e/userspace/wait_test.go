package userspacee2e

import (
	"net/netip"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// syncWait bounds how long a change takes to reach traffic: the informer,
// the 1 s minimum sync period and the sync itself.
const syncWait = 10 * time.Second

// connTimeout bounds one connection or exchange of the measuring probes:
// generous, as the machine running the suite may be busy.
const connTimeout = 3 * time.Second

// waitFor repeats a short probe (3 attempts of 500 ms unless p says
// otherwise) until done accepts its result, and returns that result; it fails
// the test after syncWait (framework.Cluster.WaitProbe).
func (s *suite) waitFor(t *testing.T, from framework.NetNSer, p traffic.Probe, what string, done func(traffic.Result) bool) traffic.Result {
	t.Helper()
	return s.c.WaitProbe(t, from, p, 500*time.Millisecond, syncWait, what, done)
}

// waitAnswered waits until every attempt of a short probe of protocol
// (traffic.TCP or traffic.UDP) from from to addr is answered.
func (s *suite) waitAnswered(t *testing.T, from framework.NetNSer, protocol string, addr netip.AddrPort) {
	t.Helper()
	s.waitFor(t, from, traffic.Probe{Protocol: protocol, Addr: addr}, "answered", func(r traffic.Result) bool {
		return r.Answered() == r.Sent
	})
}

// probe sends n attempts of protocol to addr with the default parallelism
// and the generous connTimeout.
func (s *suite) probe(t *testing.T, from framework.NetNSer, protocol string, addr netip.AddrPort, n int) traffic.Result {
	t.Helper()
	return s.c.Probe(t, from, traffic.Probe{Protocol: protocol, Addr: addr, Count: n, Timeout: connTimeout})
}

// sequential sends n attempts of protocol to addr one after the other.
func (s *suite) sequential(t *testing.T, from framework.NetNSer, protocol string, addr netip.AddrPort, n int) traffic.Result {
	t.Helper()
	return s.c.Probe(t, from, traffic.Probe{Protocol: protocol, Addr: addr, Count: n, Parallel: 1, Timeout: connTimeout})
}

// eventually polls cond every 50 ms until it holds or timeout passes, and
// reports whether it held.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
