package ipvsmode

import (
	"net/netip"

	v1 "k8s.io/api/core/v1"
)

// DummyDevice is the dummy interface the virtual servers' addresses are bound to,
// so the node accepts packets sent to them: upstream's name.
const DummyDevice = "kube-ipvs0"

// Netlink is the kernel seam for links and addresses. Its methods are idempotent:
// ensuring what exists or removing what is gone is not an error.
type Netlink interface {
	// EnsureDummy creates the dummy interface name unless it exists.
	EnsureDummy(name string) error
	// DeleteDummy deletes the dummy interface name; a missing one is fine.
	DeleteDummy(name string) error
	// Addresses lists the addresses of family bound to the interface dev, without
	// IPv6 link-local ones.
	Addresses(dev string, family v1.IPFamily) ([]netip.Addr, error)
	// AddAddress binds addr (as a /32 or /128) to dev.
	AddAddress(dev string, addr netip.Addr) error
	// DelAddress unbinds addr from dev.
	DelAddress(dev string, addr netip.Addr) error
	// LocalAddresses lists the node's addresses of family on every interface but
	// except, without loopback and IPv6 link-local ones.
	LocalAddresses(family v1.IPFamily, except string) ([]netip.Addr, error)
}

// AddressWatcher is implemented by Netlink seams that follow the kernel's address
// notifications. A partial sync then lists the node's addresses only when they may
// have changed, instead of on every sync: on a node with thousands of service
// addresses on kube-ipvs0 the listing is most of a small sync's cost. Without it,
// every sync lists them.
type AddressWatcher interface {
	// LocalAddressesChanged reports whether the node's addresses (on interfaces
	// other than the one LocalAddresses was last told to skip) may have changed
	// since LocalAddresses last listed them. It is true before the first listing
	// and whenever notifications were lost.
	LocalAddressesChanged() bool
}
