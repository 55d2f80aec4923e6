package ipvsmode

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/moby/ipvs"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Backend programs one IP family's services with IPVS, the way kube-proxy's IPVS
// mode does. It implements proxy.Backend; dual-stack nodes run two.
type Backend struct {
	opts Options
	c    config

	mu sync.Mutex
	// st is what the kernel holds since the last successful sync; nil when unknown
	// (before the first sync, after a failure), which makes the next sync a full
	// one that reads the kernel first.
	st      *state
	term    terminations
	payload iptables.Payload
	batch   ipset.Batch
}

var _ proxy.Backend = (*Backend)(nil)

// New returns a backend for opts.Family. It touches nothing: Setup and Sync do.
func New(opts Options) (*Backend, error) {
	c, err := newConfig(&opts)
	if err != nil {
		return nil, err
	}
	return &Backend{opts: opts, c: c}, nil
}

// Sync makes the kernel match snap. A full sync (changes.Full, the first one, one
// after a failure, or when the node's addresses changed) reads the kernel and diffs
// everything against it; otherwise only the services changes names are diffed
// against what the backend knows it programmed, without listing the kernel's
// state: the node's addresses are listed again only when the Netlink seam reports
// that they may have changed (AddressWatcher).
func (b *Backend) Sync(ctx context.Context, snap *proxy.Snapshot, changes proxy.Changes) error {
	if snap.Family != b.c.family {
		return fmt.Errorf("ipvs %s: got a %s snapshot", b.c.family, snap.Family)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &syncer{ctx: ctx, b: b, c: &b.c, h: b.opts.IPVS, term: &b.term, batch: &b.batch, clock: newPhaseClock()}
	full := changes.Full || b.st == nil
	var env planEnv
	var err error
	if full || b.addressesMayHaveChanged() {
		env, err = b.env()
		full = full || !env.equal(&b.st.env)
		s.clock.done(phaseNodeAddrs)
	}
	if err == nil {
		if full {
			err = s.full(snap, env)
		} else {
			s.st = b.st
			err = s.partial(snap, changes)
		}
	}
	// Flows made stale by the kernel calls that succeeded are cleared even when
	// others failed: the next sync would not see those changes again.
	s.clearStale()
	if err != nil {
		b.st = nil
		return fmt.Errorf("ipvs %s: %w", b.c.family, err)
	}
	b.st = s.st
	s.clock.log(&b.c, full)
	return nil
}

// addressesMayHaveChanged reports whether the node's addresses need listing
// before a partial sync.
func (b *Backend) addressesMayHaveChanged() bool {
	w, ok := b.opts.Netlink.(AddressWatcher)
	return !ok || w.LocalAddressesChanged()
}

// env reads the node's addresses the plans depend on.
func (b *Backend) env() (planEnv, error) {
	addrs, err := b.opts.Netlink.LocalAddresses(b.c.family, DummyDevice)
	if err != nil {
		return planEnv{}, fmt.Errorf("listing the node's addresses: %w", err)
	}
	var env planEnv
	for _, a := range addrs {
		if b.c.isFamily(a) && !a.IsLoopback() && !slices.Contains(env.nodeAddrs, a) {
			env.nodeAddrs = append(env.nodeAddrs, a)
		}
	}
	slices.SortFunc(env.nodeAddrs, netip.Addr.Compare)
	for _, a := range env.nodeAddrs {
		if len(b.c.nodePortCIDRs) == 0 || slices.ContainsFunc(b.c.nodePortCIDRs, func(p netip.Prefix) bool { return p.Contains(a) }) {
			env.nodePortIPs = append(env.nodePortIPs, a)
		}
	}
	return env, nil
}

// equal compares two environments.
func (e *planEnv) equal(o *planEnv) bool {
	return slices.Equal(e.nodeAddrs, o.nodeAddrs) && slices.Equal(e.nodePortIPs, o.nodePortIPs)
}

// syncer is one sync in progress. Like a knftables transaction it keeps the first
// error of the kernel calls that may go on after a failure, so one broken virtual
// server does not hold back the others.
type syncer struct {
	ctx   context.Context
	b     *Backend
	c     *config
	h     Handle
	st    *state
	term  *terminations
	batch *ipset.Batch
	dest  ipvs.Destination // scratch for destination
	clock phaseClock
	stale []conntrack.StaleFlow
	err   error
	nerr  int
}

// fail records an error.
func (s *syncer) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.nerr++
}

// result returns the sync's error, if any.
func (s *syncer) result() error {
	switch s.nerr {
	case 0:
		return nil
	case 1:
		return s.err
	}
	return fmt.Errorf("%w (and %d more errors)", s.err, s.nerr-1)
}
