package ipvsmode

import (
	"context"
	"fmt"
)

// CheckCanary reports whether someone removed what the backend programmed since its
// last successful sync: kube-ipvs0, the KUBE-SERVICES chain, or virtual servers
// (as "ipvsadm -C" does). The server then makes the next sync full. It costs a
// netlink dump of the virtual servers and one iptables call.
func (b *Backend) CheckCanary(ctx context.Context) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == nil {
		return false, nil // the next sync is full anyway
	}
	if _, err := b.opts.Netlink.Addresses(DummyDevice, b.c.family); err != nil {
		return true, nil
	}
	exists, err := b.opts.IPTables.ChainExists(ctx, nat, chainServices)
	if err != nil {
		return false, fmt.Errorf("ipvs %s: checking chain %s: %w", b.c.family, chainServices, err)
	}
	if !exists {
		return true, nil
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
	return own != len(b.st.vs), nil
}
