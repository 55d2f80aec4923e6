package userspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Backend is the userspace proxy of one IP family. It implements proxy.Backend;
// dual-stack nodes run two. Close stops its listeners when kproxy exits.
type Backend struct {
	cfg     config
	metrics *metrics
	// counts receives failed restores (Options.Metrics); nil counts nothing.
	counts Metrics
	bufs   *bufPool       // UDP datagrams
	wg     sync.WaitGroup // every goroutine of every listener and loop
	loops  []*loop        // relay TCP connections; started with the first TCP listener

	iptMu sync.Mutex
	ipt   iptables.Restorer // nil until detected, when Options.IPTables was nil

	mu       sync.Mutex
	closed   bool
	services map[proxy.ServicePortName]*servicePort
	ports    *portAllocator
	payload  iptables.Payload // a full sync's restore input
	diff     bytes.Buffer     // a partial sync's
	// applied is what the portal chains hold after the last restore; nil when
	// the kernel's state is unknown (before the first sync, after a failure),
	// which makes the next sync full.
	applied *portalState
	// retiring are listeners to close once the portals stop pointing at them;
	// pending are the ports of closed listeners, released after the next
	// successful restore.
	retiring []listener
	pending  []int
}

var _ proxy.Backend = (*Backend)(nil)

// errClosed is returned by Sync after Close.
var errClosed = errors.New("userspace: backend closed")

// New returns a backend for opts.Family. Nothing runs and no listener opens
// before Setup and Sync.
func New(opts Options) (*Backend, error) {
	cfg, err := newConfig(&opts)
	if err != nil {
		return nil, err
	}
	return &Backend{
		cfg:      cfg,
		ipt:      opts.IPTables,
		metrics:  newMetrics(opts.Registerer, string(cfg.family)),
		counts:   opts.Metrics,
		bufs:     newBufPool(maxDatagram),
		services: map[proxy.ServicePortName]*servicePort{},
		ports:    newPortAllocator(cfg.ports),
	}, nil
}

// Setup creates the portal chains (keeping the rules a previous run left, so
// service traffic flows until the first sync) and the jumps to them, which also
// proves iptables works.
func (b *Backend) Setup(ctx context.Context) error {
	ipt, err := b.runner(ctx)
	if err != nil {
		return err
	}
	if err := ensureChains(ctx, ipt); err != nil {
		return fmt.Errorf("userspace %s: creating the portal chains: %w", b.cfg.family, err)
	}
	if err := ensureJumps(ctx, ipt); err != nil {
		return fmt.Errorf("userspace %s: %w", b.cfg.family, err)
	}
	return nil
}

// runner returns the iptables runner, detecting the node's variant on first use
// when Options.IPTables was nil.
func (b *Backend) runner(ctx context.Context) (iptables.Restorer, error) {
	b.iptMu.Lock()
	defer b.iptMu.Unlock()
	if b.ipt != nil {
		return b.ipt, nil
	}
	v, err := iptables.Detect(ctx)
	if err != nil {
		return nil, fmt.Errorf("userspace %s: detecting the iptables variant: %w", b.cfg.family, err)
	}
	b.ipt = iptables.New(iptablesFamily(b.cfg.ipv6), v)
	klog.InfoS("Using iptables", "family", b.cfg.family, "variant", v)
	return b.ipt, nil
}

// Sync opens, updates and closes listeners to match snap, then brings the
// portal chains up to date with at most one iptables-restore: a full sync
// rewrites them and restores the jumps from built-in chains, a partial one
// changes only the rules of service ports whose portals changed (endpoint
// changes never do). A service port whose listener cannot be opened is left
// out and reported in the error; the others are synced.
func (b *Backend) Sync(ctx context.Context, snap *proxy.Snapshot, changes proxy.Changes) error {
	if snap.Family != b.cfg.family {
		return fmt.Errorf("userspace %s: got a %s snapshot", b.cfg.family, snap.Family)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	full := changes.Full || b.applied == nil
	order := snap.Sorted()
	var errs []error
	for _, name := range order {
		if sp := b.services[name]; sp != nil && sp.internal != nil && !full && !changes.Touches(name.NamespacedName) {
			continue
		}
		if err := b.program(name, snap.Services[name]); err != nil {
			errs = append(errs, err)
		}
	}
	b.prune(snap)
	applyErr := b.applyPortals(ctx, snap, order, full, changes)
	b.retire(applyErr == nil)
	return errors.Join(append(errs, applyErr)...)
}

// retire closes the listeners retired by this sync. Their ports are released
// once a restore has succeeded, so that no new listener takes a port that stale
// portal rules still send traffic to.
func (b *Backend) retire(applied bool) {
	for _, l := range b.retiring {
		l.close()
		b.pending = append(b.pending, l.port())
	}
	b.retiring = b.retiring[:0]
	if !applied {
		return
	}
	for _, p := range b.pending {
		b.ports.release(p)
	}
	b.pending = b.pending[:0]
}

// Cleanup removes the portal chains and the jumps to them in this family. It
// works from their well-known names, so it also removes what kube-proxy's
// userspace mode left. Listeners are not touched; see Close.
func (b *Backend) Cleanup(ctx context.Context) error {
	b.mu.Lock()
	b.applied = nil
	b.mu.Unlock()
	ipt, err := b.runner(ctx)
	if err != nil {
		return err
	}
	if err := removeAll(ctx, ipt); err != nil {
		return fmt.Errorf("userspace %s: cleaning up: %w", b.cfg.family, err)
	}
	return nil
}

// Close closes every listener and connection and waits for their goroutines to
// end. The portal rules stay (see Cleanup). Sync fails after Close.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, sp := range b.services {
		b.retiring = append(b.retiring, sp.listeners()...)
	}
	b.services = nil
	b.retire(false)
	loops := b.loops
	b.mu.Unlock()
	for _, l := range loops {
		l.stop()
	}
	b.wg.Wait()
	klog.V(2).InfoS("Userspace proxy closed", "family", b.cfg.family)
	return nil
}

// ListenerPorts returns the ports of a service port's listeners: internal serves
// cluster IP traffic, external node port, external and load-balancer IP traffic
// (the same port when one listener serves both; 0 when it could not be opened).
// ok is false when the backend proxies no such service port.
func (b *Backend) ListenerPorts(name proxy.ServicePortName) (internal, external int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sp := b.services[name]
	if sp == nil || sp.internal == nil {
		return 0, 0, false
	}
	pt, _ := sp.portal(nil)
	return pt.internal, pt.external, true
}

// BindAddress returns the address listeners listen on.
func (b *Backend) BindAddress() netip.Addr { return b.cfg.bind }
