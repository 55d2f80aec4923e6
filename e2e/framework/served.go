package framework

import (
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// WaitServedBy probes addr over TCP from from until every connection is
// answered and the answering pods are exactly pods; it returns how long that
// took. After timeout it fails the test with the last probe's result.
func (c *Cluster) WaitServedBy(t testing.TB, from NetNSer, addr netip.AddrPort, timeout time.Duration, pods ...*Pod) time.Duration {
	t.Helper()
	want := PodNames(pods)
	// 12 connections per pod miss one of up to 4 pods with odds below 1e-4
	// under random balancing; round robin misses none.
	p := traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 12 * len(pods), Timeout: time.Second}
	start := time.Now()
	for {
		r := c.Probe(t, from, p)
		if r.Answered() == r.Sent && slices.Equal(r.PodNames(), want) {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("connections to %s from %s not answered by exactly %v within %v; last probe: %s", addr, from.NetNS(), want, timeout, r.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PodNames returns the pods' names, sorted and without repeats.
func PodNames(pods []*Pod) []string {
	names := map[string]bool{}
	for _, p := range pods {
		names[p.Name] = true
	}
	return slices.Sorted(maps.Keys(names))
}
