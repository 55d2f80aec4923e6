package iptablesmode

import (
	"context"
	"fmt"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack"
)

// The applying layer: run a rendered payload, then, only once it succeeded, record
// the new kernel state, publish metrics and clear stale conntrack entries.

// restore runs iptables-restore with payload.
func (b *Backend) restore(ctx context.Context, payload []byte) error {
	if err := b.ipt.Restore(ctx, payload); err != nil {
		return fmt.Errorf("iptables %s: %w", b.cfg.family, err)
	}
	return nil
}

// failed stops trusting the kernel's state after a failed sync: part of the
// payload may have been applied, so the next sync is full and reads the kernel
// again. The last programmed state is kept: stale conntrack flows are still
// judged against it.
func (b *Backend) failed(partial bool) {
	b.trusted = false
	if b.opts.Metrics != nil {
		b.opts.Metrics.IPTablesRestoreFailed(b.cfg.family, partial)
	}
}

// afterSync publishes metrics and clears stale conntrack entries after a
// successful sync; old holds the previously programmed states of the ports res
// touched (nil before the first sync).
func (b *Backend) afterSync(old *kernelState, res rendered) {
	if m := b.opts.Metrics; m != nil {
		nat, filter := b.state.ruleCounts()
		m.SetIPTablesRules(b.cfg.family, "nat", nat, res.natWritten)
		m.SetIPTablesRules(b.cfg.family, "filter", filter, res.filterWritten)
		m.SetNoLocalEndpoints(b.cfg.family, b.state.noLocalInternal, b.state.noLocalExternal)
	}
	if b.opts.Conntrack == nil {
		return
	}
	var flows []conntrack.StaleFlow
	if res.state != nil {
		flows = b.fullStaleFlows(old, res.state)
	} else {
		for name, now := range res.delta {
			flows = staleFlows(serviceOf(old.services[name]), serviceOf(now), flows)
		}
	}
	if err := b.opts.Conntrack.ClearFlows(flows); err != nil {
		klog.ErrorS(err, "Failed to clear stale conntrack entries", "family", b.cfg.family, "flows", len(flows))
	}
}

// fullStaleFlows compares every port of two full states; old nil means nothing was
// known to be programmed.
func (b *Backend) fullStaleFlows(old, now *kernelState) []conntrack.StaleFlow {
	var flows []conntrack.StaleFlow
	for name, s := range now.services {
		var before *serviceState
		if old != nil {
			before = old.services[name]
		}
		flows = staleFlows(serviceOf(before), s.svc, flows)
	}
	if old != nil {
		for name, s := range old.services {
			if _, ok := now.services[name]; !ok {
				flows = staleFlows(s.svc, nil, flows)
			}
		}
	}
	return flows
}

// serviceOf returns the service of a state, nil for none.
func serviceOf(s *serviceState) *proxy.Service {
	if s == nil {
		return nil
	}
	return s.svc
}
