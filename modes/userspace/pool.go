package userspace

import (
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// pool is what one listener balances over: the endpoints of its traffic class,
// a round-robin cursor, the ClientIP affinity table and the connections (or UDP
// sessions) open to each endpoint. One mutex guards it all, so a connection can
// never be registered to an endpoint that an update has just removed.
type pool struct {
	clock clock.PassiveClock

	mu      sync.Mutex
	eps     []netip.AddrPort
	members map[netip.AddrPort]connSet // every current endpoint; nil set when idle
	next    int                        // round-robin cursor into eps
	timeout time.Duration              // ClientIP affinity timeout; 0: none
	sticky  map[netip.Addr]stickyEntry
	sweepAt int // sticky size that triggers the next sweep of expired entries
	closed  bool
}

// connSet holds the open connections of one endpoint.
type connSet map[io.Closer]struct{}

// stickyEntry is one client's affinity.
type stickyEntry struct {
	ep   netip.AddrPort
	last time.Time
}

// minSweep is the affinity table size below which expired entries are only
// removed when met.
const minSweep = 64

// newPool returns an empty pool.
func newPool(clk clock.PassiveClock) *pool {
	return &pool{clock: clk, members: map[netip.AddrPort]connSet{}, sweepAt: minSweep}
}

// pick chooses the endpoint for a new connection from client: the client's
// endpoint while its affinity lasts, else the next one round robin (which then
// becomes the client's). failed lists the endpoints this connection failed to
// reach: then the client's affinity is ignored and replaced, and the next
// endpoint round robin that is not in failed is taken (any, once every
// endpoint failed). Other connections move the cursor between the attempts of
// one connection, so without skipping them a retry could land on the endpoint
// that just failed. ok is false when there is no endpoint.
func (p *pool) pick(client netip.Addr, failed []netip.AddrPort) (ep netip.AddrPort, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.eps) == 0 {
		return ep, false
	}
	now := p.clock.Now()
	if p.timeout > 0 && len(failed) == 0 {
		if e, found := p.sticky[client]; found {
			if now.Sub(e.last) < p.timeout {
				p.sticky[client] = stickyEntry{e.ep, now}
				return e.ep, true
			}
			delete(p.sticky, client)
		}
	}
	i := p.nextUntried(failed)
	ep = p.eps[i]
	p.next = (i + 1) % len(p.eps)
	if p.timeout > 0 {
		p.stick(client, ep, now)
	}
	return ep, true
}

// nextUntried returns the index of the first endpoint from the cursor on that
// is not in failed, or the cursor's when every endpoint is.
func (p *pool) nextUntried(failed []netip.AddrPort) int {
	start := p.next % len(p.eps)
	for k := range len(p.eps) {
		i := (start + k) % len(p.eps)
		if !slices.Contains(failed, p.eps[i]) {
			return i
		}
	}
	return start
}

// stick records client's affinity, sweeping expired entries when the table has
// doubled since the last sweep.
func (p *pool) stick(client netip.Addr, ep netip.AddrPort, now time.Time) {
	if p.sticky == nil {
		p.sticky = map[netip.Addr]stickyEntry{}
	}
	p.sticky[client] = stickyEntry{ep, now}
	if len(p.sticky) >= p.sweepAt {
		p.sweep(now)
		p.sweepAt = max(2*len(p.sticky), minSweep)
	}
}

// sweep removes expired affinities.
func (p *pool) sweep(now time.Time) {
	for c, e := range p.sticky {
		if now.Sub(e.last) >= p.timeout {
			delete(p.sticky, c)
		}
	}
}

// update sets the endpoints and the affinity timeout. Affinities to removed
// endpoints are forgotten, and the connections open to them are returned for the
// caller to close (outside the lock, as closing takes it again).
func (p *pool) update(eps []netip.AddrPort, timeout time.Duration) []io.Closer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	members := make(map[netip.AddrPort]connSet, len(eps))
	for _, ep := range eps {
		members[ep] = p.members[ep]
	}
	var gone []io.Closer
	for ep, conns := range p.members {
		if _, kept := members[ep]; kept {
			continue
		}
		for c := range conns {
			gone = append(gone, c)
		}
	}
	p.members = members
	p.eps = append(p.eps[:0], eps...)
	if len(p.eps) > 0 {
		p.next %= len(p.eps)
	}
	p.timeout = timeout
	if timeout == 0 {
		p.sticky = nil
	}
	for c, e := range p.sticky {
		if _, kept := members[e.ep]; !kept {
			delete(p.sticky, c)
		}
	}
	p.sweep(p.clock.Now())
	return gone
}

// track registers c as open to ep. It returns false, registering nothing, when ep
// is no longer an endpoint or the pool is closed: the caller must close c.
func (p *pool) track(ep netip.AddrPort, c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	conns, ok := p.members[ep]
	if !ok || p.closed {
		return false
	}
	if conns == nil {
		conns = connSet{}
		p.members[ep] = conns
	}
	conns[c] = struct{}{}
	return true
}

// untrack forgets c; forgetting an unknown connection does nothing.
func (p *pool) untrack(ep netip.AddrPort, c io.Closer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.members[ep], c)
}

// close empties the pool for good and returns every open connection for the
// caller to close.
func (p *pool) close() []io.Closer {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all []io.Closer
	for _, conns := range p.members {
		for c := range conns {
			all = append(all, c)
		}
	}
	p.members, p.eps, p.sticky, p.closed = nil, nil, nil, true
	return all
}

// open returns how many connections are registered.
func (p *pool) open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, conns := range p.members {
		n += len(conns)
	}
	return n
}

// closeAll closes every closer, ignoring errors (the peers may be gone already).
func closeAll(cs []io.Closer) {
	for _, c := range cs {
		_ = c.Close()
	}
}
