package ipvsmode

import (
	"context"
	"fmt"
	"net/netip"
)

// CheckCanary reports whether what the backend programmed since its last
// successful sync is still there (ok true), as the iptables mode's CheckCanary
// does. It is not when someone removed kube-ipvs0 or addresses bound to it, the
// KUBE-SERVICES chain, or virtual servers (as "ipvsadm -C" does): the backend
// then forgets what it
// believed the kernel holds, so its next sync is full, and the server should
// request one. It costs netlink dumps of kube-ipvs0's addresses and of the
// virtual servers and one iptables call, and is meant to run once per sync
// period, not per sync.
func (b *Backend) CheckCanary(ctx context.Context) (ok bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == nil {
		return true, nil // the next sync is full anyway
	}
	ok, err = b.intact(ctx)
	if err == nil && !ok {
		b.st = nil
	}
	return ok, err
}

// intact looks for kube-ipvs0 and the addresses bound to it, KUBE-SERVICES and
// the owned virtual servers.
func (b *Backend) intact(ctx context.Context) (bool, error) {
	bound, err := b.opts.Netlink.Addresses(DummyDevice, b.c.family)
	if err != nil || !b.st.allBound(bound) {
		return false, nil
	}
	exists, err := b.opts.IPTables.ChainExists(ctx, nat, chainServices)
	if err != nil {
		return false, fmt.Errorf("ipvs %s: checking chain %s: %w", b.c.family, chainServices, err)
	}
	if !exists {
		return false, nil
	}
	svcs, err := b.opts.IPVS.GetServices()
	if err != nil {
		return false, fmt.Errorf("ipvs %s: listing virtual servers: %w", b.c.family, err)
	}
	own := 0
	for _, svc := range svcs {
		if _, ok := b.c.ownKey(svc); ok {
			own++
		}
	}
	return own == len(b.st.vs), nil
}

// allBound reports whether bound, kube-ipvs0's addresses, holds every address
// the plans bind.
func (st *state) allBound(bound []netip.Addr) bool {
	n := 0
	for _, a := range bound {
		if st.binds[a] > 0 {
			n++
		}
	}
	return n == len(st.binds)
}
