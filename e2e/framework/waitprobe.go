package framework

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// WaitProbe repeats probe p from from (3 attempts of attempt each, unless p sets
// Count or Timeout) until done accepts its result, and returns that result. It
// fails the test with the last result after limit; what names the awaited
// outcome in that message.
func (c *Cluster) WaitProbe(t testing.TB, from NetNSer, p traffic.Probe, attempt, limit time.Duration, what string, done func(traffic.Result) bool) traffic.Result {
	t.Helper()
	if p.Count == 0 {
		p.Count = 3
	}
	if p.Timeout == 0 {
		p.Timeout = attempt
	}
	deadline := time.Now().Add(limit)
	for {
		r := c.Probe(t, from, p)
		if done(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s from %s to %s %s: not within %v; last probe: %s", what, from.NetNS(), p.Protocol, p.Addr, limit, r.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
