//go:build linux

package ipvsmode

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"k8s.io/klog/v2"
)

// addrWatchBuffer is the receive buffer of the address notifications: room for
// tens of thousands of them.
const addrWatchBuffer = 32 << 20

// addrWatch follows the kernel's address notifications (RTM_NEWADDR and
// RTM_DELADDR) so that LocalAddressesChanged can tell a partial sync whether the
// node's addresses need listing again. Notifications about the skipped interface
// (kube-ipvs0, whose addresses the backend itself binds) and about IPv6 link-local
// addresses are ignored. Until the subscription works, and after it breaks, every
// question is answered "changed".
type addrWatch struct {
	mu      sync.Mutex
	running bool // a subscription is delivering notifications

	changed  atomic.Bool
	skip     atomic.Int64 // index of the interface to ignore; -1 while unknown
	skipName atomic.Value // its name (a string)
	ipv6     atomic.Bool  // the family LocalAddresses last listed
}

// start subscribes unless a subscription is running; it reports whether one is.
// It is called before each listing, so a notification racing with the listing
// marks the addresses changed again rather than being lost.
func (w *addrWatch) start() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return true
	}
	// The subscription lives as long as the process: done is never closed.
	ch := make(chan netlink.AddrUpdate, 4096)
	opts := netlink.AddrSubscribeOptions{
		ErrorCallback: func(err error) {
			w.changed.Store(true)
			klog.V(2).InfoS("Address notifications failed; listing the addresses again", "err", err)
		},
		// A full sync binds thousands of addresses to kube-ipvs0 at once: a
		// socket buffer too small for their notifications overflows (ENOBUFS),
		// which ends the subscription and costs a listing at the next sync.
		ReceiveBufferSize:      addrWatchBuffer,
		ReceiveBufferForceSize: true,
	}
	err := netlink.AddrSubscribeWithOptions(ch, make(chan struct{}), opts)
	if err != nil {
		// Forcing the size past rmem_max needs CAP_NET_ADMIN.
		opts.ReceiveBufferForceSize = false
		err = netlink.AddrSubscribeWithOptions(ch, make(chan struct{}), opts)
	}
	if err != nil {
		klog.V(2).InfoS("Cannot follow address notifications; listing addresses at every sync", "err", err)
		return false
	}
	w.running = true
	go w.loop(ch)
	return true
}

// loop marks the addresses changed for each relevant notification; when the
// channel closes (the subscription failed) it marks them changed for good, until
// the next start.
func (w *addrWatch) loop(ch <-chan netlink.AddrUpdate) {
	for u := range ch {
		if w.relevant(u) {
			w.changed.Store(true)
		}
	}
	w.mu.Lock()
	w.running = false
	w.mu.Unlock()
	w.changed.Store(true)
}

// relevant reports whether a notification may change the node's addresses.
func (w *addrWatch) relevant(u netlink.AddrUpdate) bool {
	if int64(u.LinkIndex) == w.skipIndex() {
		return false
	}
	ip, ok := netip.AddrFromSlice(u.LinkAddress.IP)
	if !ok {
		return true
	}
	ip = ip.Unmap()
	return ip.Is6() == w.ipv6.Load() && !(ip.Is6() && ip.IsLinkLocalUnicast())
}

// skipIndex returns the index of the skipped interface. When it did not exist at
// the last listing (kube-ipvs0 before the first sync creates it), it looks it up
// again, so the addresses the sync binds to it do not count as changes.
func (w *addrWatch) skipIndex() int64 {
	if i := w.skip.Load(); i >= 0 {
		return i
	}
	name, _ := w.skipName.Load().(string)
	if name == "" {
		return -1
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return -1
	}
	i := int64(link.Attrs().Index)
	w.skip.Store(i)
	return i
}

// listing is called just before LocalAddresses lists: from now on only later
// notifications count.
func (w *addrWatch) listing(skip int, skipName string, ipv6 bool) {
	w.skipName.Store(skipName)
	w.skip.Store(int64(skip))
	w.ipv6.Store(ipv6)
	if w.start() {
		w.changed.Store(false)
	}
}

// LocalAddressesChanged implements AddressWatcher.
func (n *kernelNetlink) LocalAddressesChanged() bool {
	w := &n.watch
	w.mu.Lock()
	running := w.running
	w.mu.Unlock()
	return !running || w.changed.Load()
}
