package userspace

import (
	"context"
	"fmt"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// CheckCanary reports whether the portals are still hooked in: the chain
// KUBE-PORTALS-CONTAINER exists and PREROUTING still jumps to it. Either is
// gone after someone flushed the nat table: `iptables -t nat -F` keeps the
// (now empty) chains but drops every jump, `-X` then deletes the chains.
// The backend then forgets what it applied, so its next Sync is a full one
// that rewrites the chains and the jumps to them. The sync loop calls it once
// per sync period and requests a sync when it returns false. present means
// nothing when err is not nil.
//
// The jump is looked up with EnsureRule, which also puts a missing one back
// at once, ahead of the full sync that refills the chain. It runs under the
// backend's lock, so it cannot race a sync adding the same jump.
func (b *Backend) CheckCanary(ctx context.Context) (present bool, err error) {
	ipt, err := b.runner(ctx)
	if err != nil {
		return false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	present, err = portalsHooked(ctx, ipt)
	if err != nil {
		return false, fmt.Errorf("userspace %s: looking for the portal chains: %w", b.cfg.family, err)
	}
	if !present {
		b.applied = nil
	}
	return present, nil
}

// portalsHooked reports whether the first portal chain exists and is jumped
// to from PREROUTING, adding the jump when only it is missing.
func portalsHooked(ctx context.Context, ipt iptables.Restorer) (bool, error) {
	exists, err := ipt.ChainExists(ctx, iptables.TableNAT, chainPortalsContainer)
	if err != nil || !exists {
		return false, err
	}
	j := jumps()[0]
	existed, err := ipt.EnsureRule(ctx, j.pos, j.table, j.chain, j.args...)
	return existed, err
}
