package userspace

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/kproxy/kproxy/proxy"
)

// applyPortals brings the portal chains to what snap's service ports need. A
// full sync rewrites the five chains and adds missing jumps; a partial one
// deletes and inserts only the rules of the service ports whose portals
// changed (see writeDiff), and runs no restore when none did: endpoint
// changes, the most frequent ones, never change portals.
func (b *Backend) applyPortals(ctx context.Context, snap *proxy.Snapshot, order []proxy.ServicePortName, full bool, changes proxy.Changes) error {
	cfg := b.portalConfig(snap)
	old := b.applied
	full = full || old == nil || !old.cfg.equal(cfg)
	next, portals, err := b.nextPortals(snap, order, cfg, old, full, changes)
	if err != nil {
		b.applied = nil
		return fmt.Errorf("userspace %s: rendering portals: %w", b.cfg.family, err)
	}
	var data []byte
	if full {
		b.payload.Reset()
		renderPortals(&b.payload, cfg, portals)
		if data, err = b.payload.Bytes(); err != nil {
			b.applied = nil
			return fmt.Errorf("userspace %s: rendering portals: %w", b.cfg.family, err)
		}
	} else {
		writeDiff(&b.diff, old, next)
		if b.diff.Len() == 0 {
			b.applied = next
			return nil
		}
		data = b.diff.Bytes()
	}
	ipt, err := b.runner(ctx)
	if err != nil {
		return err
	}
	if err := ipt.Restore(ctx, data); err != nil {
		b.restoreFailed(full)
		b.applied = nil
		return fmt.Errorf("userspace %s: applying portals: %w", b.cfg.family, err)
	}
	b.applied = next
	if full {
		if err := ensureJumps(ctx, ipt); err != nil {
			b.applied = nil
			return fmt.Errorf("userspace %s: %w", b.cfg.family, err)
		}
	}
	return nil
}

// nextPortals returns the state the chains must reach and the portals of a full
// sync, in chain order. A partial sync renders again only the service ports
// that changes touches or whose listeners changed, and takes the others' rules
// from old.
func (b *Backend) nextPortals(snap *proxy.Snapshot, order []proxy.ServicePortName, cfg portalConfig, old *portalState, full bool, changes proxy.Changes) (*portalState, []portal, error) {
	next := &portalState{cfg: cfg, entries: make(map[proxy.ServicePortName]*portalEntry, len(b.services))}
	portals := make([]portal, 0, len(b.services))
	sr := specRenderer{cfg: cfg}
	for _, name := range order {
		sp := b.services[name]
		if sp == nil {
			continue
		}
		pt, ok := sp.portal(snap.Services[name])
		if !ok {
			continue
		}
		portals = append(portals, pt)
		next.order = append(next.order, name)
		if !full && !changes.Touches(name.NamespacedName) {
			if e := old.entries[name]; e != nil && e.internal == pt.internal && e.external == pt.external {
				next.entries[name] = e
				continue
			}
		}
		e, err := sr.render(pt)
		if err != nil {
			return nil, nil, err
		}
		next.entries[name] = e
	}
	return next, portals, nil
}

// portalConfig returns the rendering settings for snap's node.
func (b *Backend) portalConfig(snap *proxy.Snapshot) portalConfig {
	c := portalConfig{bind: b.cfg.bind, bindAny: b.cfg.bindAny, clusterCIDR: b.cfg.clusterCIDR,
		nodePortCIDRs: b.cfg.nodePortCIDRs}
	for _, ip := range snap.Node.IPs {
		if ip.Is4() != b.cfg.ipv6 {
			c.hostIP = ip
			break
		}
	}
	return c
}

// equal reports whether two configurations render the same rules.
func (c portalConfig) equal(o portalConfig) bool {
	return c.bind == o.bind && c.bindAny == o.bindAny && c.hostIP == o.hostIP &&
		c.clusterCIDR == o.clusterCIDR && slices.Equal(c.nodePortCIDRs, o.nodePortCIDRs)
}

// nodePortCIDRs returns the --nodeport-addresses ranges of the family, nil for
// every local address: ranges of the other family are ignored, and none of the
// family or a /0 means every address, as in the iptables mode.
func nodePortCIDRs(list []netip.Prefix, ipv6 bool) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range list {
		if p.Addr().Is4() == ipv6 {
			continue
		}
		if p.Bits() == 0 {
			return nil
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out)
}
