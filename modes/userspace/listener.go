package userspace

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// listener is one listening socket of a service port, with the connections (or
// UDP sessions) it relays.
type listener interface {
	// port returns the port it listens on.
	port() int
	// update sets the endpoints to balance over and the ClientIP affinity timeout.
	// Connections to removed endpoints are closed; the others carry on.
	update(eps []netip.AddrPort, affinity time.Duration)
	// openConns returns how many connections or sessions are relayed.
	openConns() int
	// close stops listening and closes every connection. Goroutines end soon
	// after; Backend.Close waits for them.
	close()
}

// relayBase is what TCP and UDP listeners share.
type relayBase struct {
	label  string // "ns/name:port", for logs
	portN  int
	pool   *pool
	m      *portMetrics
	dialer dialer
	ctx    context.Context // cancelled by close, aborting dials
	cancel context.CancelFunc
	wg     *sync.WaitGroup // the backend's: every goroutine of every listener
}

func (r *relayBase) port() int { return r.portN }

func (r *relayBase) update(eps []netip.AddrPort, affinity time.Duration) {
	closeAll(r.pool.update(eps, affinity))
}

func (r *relayBase) openConns() int { return r.pool.open() }

// errNoEndpoints is returned when a connection arrives for a listener without
// endpoints.
var errNoEndpoints = errors.New("no endpoints")

// dialer connects to endpoints with kube-proxy's escalating timeouts.
type dialer struct {
	network  string // "tcp4", "udp6", ...
	timeouts []time.Duration
}

// dial connects to an endpoint for client. Each attempt picks an endpoint from p
// and waits for the next timeout; after a failure the next attempt ignores and
// replaces the client's affinity, and goes to the next endpoint round robin that
// this connection has not failed to reach yet.
func (d dialer) dial(ctx context.Context, p *pool, m *portMetrics, client netip.Addr, label string) (net.Conn, netip.AddrPort, error) {
	var failed []netip.AddrPort
	var lastErr error
	for _, timeout := range d.timeouts {
		ep, ok := p.pick(client, failed)
		if !ok {
			return nil, ep, errNoEndpoints
		}
		c, err := dialEndpoint(ctx, d.network, ep, timeout)
		if err == nil {
			return c, ep, nil
		}
		if ctx.Err() != nil {
			return nil, ep, ctx.Err()
		}
		failed = attemptFailed(m, label, failed, ep, timeout, err)
		lastErr = err
	}
	return nil, netip.AddrPort{}, lastErr
}

// attemptFailed counts and logs an attempt to reach ep that failed, and returns
// failed with ep added.
func attemptFailed(m *portMetrics, label string, failed []netip.AddrPort, ep netip.AddrPort, timeout time.Duration, err error) []netip.AddrPort {
	m.dialFailed()
	klog.V(2).InfoS("Dialing endpoint failed, trying the next one", "servicePort", label, "endpoint", ep,
		"timeout", timeout, "err", err)
	return append(failed, ep)
}

// backoff waits before retrying a failed accept or read: 5ms, doubling up to 1s.
// It returns false when ctx ends first.
func backoff(ctx context.Context, delay *time.Duration) bool {
	switch {
	case *delay == 0:
		*delay = 5 * time.Millisecond
	case *delay < time.Second:
		*delay = min(2**delay, time.Second)
	}
	t := time.NewTimer(*delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
