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
