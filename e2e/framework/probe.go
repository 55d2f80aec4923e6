package framework

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// NetNSer is anything traffic can come from: a Pod, a Node or a Client.
type NetNSer interface {
	NetNS() string
}

// Probe sends p from inside from's namespace and returns the tally. Each
// worker joins the namespace on its own OS thread, so sockets start there.
func (c *Cluster) Probe(t testing.TB, from NetNSer, p traffic.Probe) traffic.Result {
	t.Helper()
	ns := from.NetNS()
	within := func(fn func() error) error { return netns.Do(ns, fn) }
	r, err := traffic.Run(context.Background(), p, within)
	if err != nil {
		t.Fatalf("e2e: probe from %s: %v", ns, err)
	}
	return r
}

// HTTPGet fetches url from inside from's namespace on a fresh connection
// and returns the status code and body. The URL's host must be an IP.
func (c *Cluster) HTTPGet(from NetNSer, url string) (int, string, error) {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DialContext: netns.DialContext(from.NetNS()), DisableKeepAlives: true},
	}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// Exec runs argv inside from's namespace (ip netns exec) and returns its
// standard output, failing the test on error. Handy for iptables-save,
// conntrack or ip route on a node.
func (c *Cluster) Exec(t testing.TB, from NetNSer, argv ...string) string {
	t.Helper()
	out, err := command(append([]string{"ip", "netns", "exec", from.NetNS()}, argv...)...)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	return out
}

// AddRoute adds a route inside from's namespace, e.g. to let a client reach
// a LoadBalancer IP through a node: c.AddRoute(t, client, "203.0.113.10/32", node.IP).
func (c *Cluster) AddRoute(t testing.TB, from NetNSer, prefix string, via netip.Addr) {
	t.Helper()
	if err := ipBatch(from.NetNS(), "route add "+prefix+" via "+via.String()); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}
