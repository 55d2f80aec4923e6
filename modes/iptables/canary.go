package iptablesmode

import (
	"context"
	"fmt"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// CheckCanary reports whether the canary chain Setup created in the mangle table
// still exists. When it is gone someone flushed the tables: the backend forgets
// what it believed the kernel holds, so its next Sync is a full one that reads the
// kernel, restores the jumps from built-in chains and recreates the canary. The
// sync loop should call it periodically and request a sync when it returns false.
// ok means nothing when err is not nil.
func (b *Backend) CheckCanary(ctx context.Context) (ok bool, err error) {
	b.mu.Lock()
	ipt, err := b.runner(ctx)
	b.mu.Unlock()
	if err != nil {
		return false, err
	}
	exists, err := ipt.ChainExists(ctx, iptables.TableMangle, chainCanary)
	if err != nil {
		return false, fmt.Errorf("iptables %s: looking for the canary chain: %w", b.cfg.family, err)
	}
	if exists {
		return true, nil
	}
	b.mu.Lock()
	b.trusted = false
	b.mu.Unlock()
	return false, nil
}
