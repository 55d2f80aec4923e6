//go:build linux

package ipvsmode

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	v1 "k8s.io/api/core/v1"
)

// kernelNetlink is the Netlink of the kernel, through github.com/vishvananda/netlink.
type kernelNetlink struct {
	h     *netlink.Handle
	watch addrWatch
}

// NewNetlink returns the Netlink of the current network namespace. It opens a
// NETLINK_ROUTE socket only: links and addresses are all it needs, and asking
// for every family (the default) also wants NETLINK_XFRM, which fails with
// "protocol not supported" on a kernel without the xfrm_user module loaded.
func NewNetlink() (Netlink, error) {
	h, err := netlink.NewHandle(syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &kernelNetlink{h: h}, nil
}

// EnsureDummy creates the dummy interface unless it exists; another kind of
// interface with that name is an error.
func (n *kernelNetlink) EnsureDummy(name string) error {
	link, err := n.h.LinkByName(name)
	if err == nil {
		if link.Type() != "dummy" {
			return fmt.Errorf("netlink: interface %s exists and is a %s, not a dummy", name, link.Type())
		}
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("netlink: looking up %s: %w", name, err)
	}
	err = n.h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}})
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("netlink: creating dummy interface %s: %w", name, err)
	}
	return nil
}

// DeleteDummy deletes the dummy interface; a missing one is fine, a non-dummy
// one is left alone with an error.
func (n *kernelNetlink) DeleteDummy(name string) error {
	link, err := n.h.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netlink: looking up %s: %w", name, err)
	}
	if link.Type() != "dummy" {
		return fmt.Errorf("netlink: interface %s is a %s, not a dummy: not deleting it", name, link.Type())
	}
	if err := n.h.LinkDel(link); err != nil && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("netlink: deleting %s: %w", name, err)
	}
	return nil
}

// Addresses lists the addresses of family on dev.
func (n *kernelNetlink) Addresses(dev string, family v1.IPFamily) ([]netip.Addr, error) {
	link, err := n.h.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("netlink: looking up %s: %w", dev, err)
	}
	addrs, err := n.addrList(link, family)
	if err != nil {
		return nil, fmt.Errorf("netlink: listing addresses of %s: %w", dev, err)
	}
	return keepUsable(addrs, false), nil
}

// AddAddress binds addr to dev; an address already bound is fine.
func (n *kernelNetlink) AddAddress(dev string, addr netip.Addr) error {
	link, err := n.h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("netlink: looking up %s: %w", dev, err)
	}
	err = n.h.AddrAdd(link, &netlink.Addr{IPNet: hostNet(addr)})
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("netlink: adding %s to %s: %w", addr, dev, err)
	}
	return nil
}

// DelAddress unbinds addr from dev; an address or interface already gone is fine.
func (n *kernelNetlink) DelAddress(dev string, addr netip.Addr) error {
	link, err := n.h.LinkByName(dev)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netlink: looking up %s: %w", dev, err)
	}
	err = n.h.AddrDel(link, &netlink.Addr{IPNet: hostNet(addr)})
	if err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("netlink: removing %s from %s: %w", addr, dev, err)
	}
	return nil
}

// LocalAddresses lists the addresses of family on every interface but except, with
// one dump of all addresses (a node may have hundreds of pod interfaces).
func (n *kernelNetlink) LocalAddresses(family v1.IPFamily, except string) ([]netip.Addr, error) {
	skip := -1
	if link, err := n.h.LinkByName(except); err == nil {
		skip = link.Attrs().Index
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("netlink: looking up %s: %w", except, err)
	}
	n.watch.listing(skip, except, family == v1.IPv6Protocol)
	addrs, err := n.addrList(nil, family)
	if err != nil {
		return nil, fmt.Errorf("netlink: listing addresses: %w", err)
	}
	addrs = slices.DeleteFunc(addrs, func(a netlink.Addr) bool { return a.LinkIndex == skip })
	return keepUsable(addrs, true), nil
}

// addrList lists addresses, dumping again when the kernel interrupted the dump
// (addresses changed meanwhile).
func (n *kernelNetlink) addrList(link netlink.Link, family v1.IPFamily) ([]netlink.Addr, error) {
	var err error
	for range 3 {
		var addrs []netlink.Addr
		if addrs, err = n.h.AddrList(link, nlFamily(family)); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return addrs, err
		}
	}
	return nil, err
}

// keepUsable converts addresses, leaving out IPv6 link-local ones and, when
// noLoopback, loopback ones.
func keepUsable(addrs []netlink.Addr, noLoopback bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if (ip.Is6() && ip.IsLinkLocalUnicast()) || (noLoopback && ip.IsLoopback()) {
			continue
		}
		out = append(out, ip)
	}
	return out
}

func nlFamily(f v1.IPFamily) int {
	if f == v1.IPv6Protocol {
		return netlink.FAMILY_V6
	}
	return netlink.FAMILY_V4
}

func hostNet(addr netip.Addr) *net.IPNet {
	return &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(addr.BitLen(), addr.BitLen())}
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}
