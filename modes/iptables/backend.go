package iptablesmode

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Backend programs one IP family's services with iptables, the way kube-proxy's
// iptables mode does. It implements proxy.Backend; dual-stack nodes run two.
type Backend struct {
	opts Options
	cfg  config
	ipt  iptables.Restorer

	mu sync.Mutex
	r  *renderer
	// state is what the last successful sync programmed, nil before the first.
	state *kernelState
	// trusted tells that the kernel still holds state. It is false before the
	// first sync, after a failed one (the tool may have applied part of it) and
	// after a flush; the next sync is then full and reads the kernel first.
	trusted bool
}

var _ proxy.Backend = (*Backend)(nil)

// New returns a backend for opts.Family. It runs nothing: Setup does.
func New(opts Options) (*Backend, error) {
	cfg, err := newConfig(&opts)
	if err != nil {
		return nil, err
	}
	return &Backend{opts: opts, cfg: cfg, ipt: opts.IPTables, r: newRenderer(cfg)}, nil
}

// Setup finds the iptables variant the node uses when Options.IPTables was nil,
// and creates the canary chain, which also proves iptables-restore works.
func (b *Backend) Setup(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ipt, err := b.runner(ctx)
	if err != nil {
		return err
	}
	if err := ipt.Restore(ctx, []byte("*mangle\n:"+chainCanary+" - [0:0]\nCOMMIT\n")); err != nil {
		return fmt.Errorf("iptables %s: creating the canary chain: %w", b.cfg.family, err)
	}
	return nil
}

// Sync makes the kernel's rules match snap. A full sync (changes.Full, or whenever
// the kernel's state is unknown) rewrites every kproxy chain; otherwise only the
// services changes names are written. One iptables-restore runs per sync, none
// when nothing changed.
func (b *Backend) Sync(ctx context.Context, snap *proxy.Snapshot, changes proxy.Changes) error {
	if snap.Family != b.cfg.family {
		return fmt.Errorf("iptables %s: got a %s snapshot", b.cfg.family, snap.Family)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.runner(ctx); err != nil {
		return err
	}
	order := snap.Sorted()
	if changes.Full || !b.trusted {
		return b.syncFull(ctx, snap, order)
	}
	return b.syncPartial(ctx, snap, order, changes)
}

// runner returns the iptables runner, detecting the node's variant on first use
// when none was given. The caller holds b.mu.
func (b *Backend) runner(ctx context.Context) (iptables.Restorer, error) {
	if b.ipt != nil {
		return b.ipt, nil
	}
	v, err := iptables.Detect(ctx)
	if err != nil {
		return nil, fmt.Errorf("iptables %s: detecting the iptables variant: %w", b.cfg.family, err)
	}
	b.ipt = iptables.New(familyOf(b.cfg.family), v)
	klog.InfoS("Using iptables", "family", b.cfg.family, "variant", v)
	return b.ipt, nil
}

// syncFull renders and applies the whole ruleset.
func (b *Backend) syncFull(ctx context.Context, snap *proxy.Snapshot, order []proxy.ServicePortName) error {
	in, err := b.fullInput(ctx, snap)
	if err != nil {
		b.failed(false)
		return err
	}
	res := b.r.full(snap, order, in)
	err = b.restore(ctx, res.payload)
	b.r.release() // proxy.Syncer then hands the freed pages back (proxy/memory.go)
	if err != nil {
		b.failed(false)
		return err
	}
	res.state.order = slices.Clone(res.state.order)
	old := b.state
	b.state, b.trusted = res.state, true
	b.afterSync(old, res)
	return nil
}

// syncPartial renders and applies the changed services only.
func (b *Backend) syncPartial(ctx context.Context, snap *proxy.Snapshot, order []proxy.ServicePortName, changes proxy.Changes) error {
	res := b.r.partial(snap, order, changes, b.state)
	if len(res.payload) > 0 {
		if err := b.restore(ctx, res.payload); err != nil {
			b.failed(true)
			return err
		}
	}
	// Keep the old service states of touched ports for stale flow detection.
	old := &kernelState{services: make(map[proxy.ServicePortName]*serviceState, len(res.delta))}
	for name := range res.delta {
		old.services[name] = b.state.services[name]
	}
	b.state.apply(res.delta, res.order)
	b.afterSync(old, res)
	return nil
}

// fullInput gathers what a full render needs from outside the snapshot: the
// addresses node ports listen on, the per-service chains the kernel holds and the
// fixes to the jumps from built-in chains. When the kernel's state is unknown it
// reads the nat and filter tables.
func (b *Backend) fullInput(ctx context.Context, snap *proxy.Snapshot) (fullInput, error) {
	var in fullInput
	if !b.cfg.nodePortAll {
		local := snap.Node.IPs
		if b.opts.LocalAddresses != nil {
			addrs, err := b.opts.LocalAddresses()
			if err != nil {
				return in, fmt.Errorf("iptables %s: listing local addresses: %w", b.cfg.family, err)
			}
			local = addrs
		}
		in.nodePortIPs = b.cfg.nodePortIPs(local)
	}
	if b.trusted {
		in.existing = b.state.ownedChains()
		return in, nil
	}
	nat, err := b.ipt.Save(ctx, iptables.TableNAT)
	if err != nil {
		return in, fmt.Errorf("iptables %s: reading the nat table: %w", b.cfg.family, err)
	}
	filter, err := b.ipt.Save(ctx, iptables.TableFilter)
	if err != nil {
		return in, fmt.Errorf("iptables %s: reading the filter table: %w", b.cfg.family, err)
	}
	natTable, filterTable := parseSave(nat, "nat"), parseSave(filter, "filter")
	in.existing = map[string]struct{}{}
	for _, c := range natTable.chains {
		if isServiceChain(c) {
			in.existing[c] = struct{}{}
		}
	}
	in.natJumps = fixJumps(natTable, b.cfg.natJumps())
	in.filterJumps = fixJumps(filterTable, b.cfg.filterJumps())
	return in, nil
}
