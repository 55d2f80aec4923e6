package ipvstest

import (
	"net/netip"
	"slices"
	"sync"
	"syscall"

	v1 "k8s.io/api/core/v1"
)

// Netlink is a fake of the IPVS mode's Netlink seam: the node's interfaces and
// their addresses. Like the kernel's, it follows address changes
// (ipvsmode.AddressWatcher). It is safe for concurrent use.
type Netlink struct {
	mu    sync.Mutex
	links map[string]*link
	calls int
	// changed is set by address changes outside except (the interface the last
	// LocalAddresses skipped) and cleared by LocalAddresses.
	changed bool
	except  string
}

type link struct {
	dummy bool
	addrs map[netip.Addr]struct{}
}

// NewNetlink returns a node with a loopback interface "lo" holding 127.0.0.1 and ::1.
func NewNetlink() *Netlink {
	n := &Netlink{links: map[string]*link{}, changed: true}
	n.AddLink("lo", netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"))
	return n
}

// AddLink adds (or replaces) a non-dummy interface holding addrs, such as eth0
// with the node's addresses.
func (n *Netlink) AddLink(name string, addrs ...netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := &link{addrs: map[netip.Addr]struct{}{}}
	for _, a := range addrs {
		l.addrs[a] = struct{}{}
	}
	n.links[name] = l
	n.changed = true
}

// Calls returns how many seam calls were made.
func (n *Netlink) Calls() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls
}

// HasLink reports whether the interface exists.
func (n *Netlink) HasLink(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[name] != nil
}

// LinkAddresses returns the addresses of an interface, sorted; nil when it does
// not exist.
func (n *Netlink) LinkAddresses(name string) []netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[name]; l != nil {
		return sorted(l.addrs, func(netip.Addr) bool { return true })
	}
	return nil
}

// AllAddresses returns every address of every interface, sorted: what the node
// treats as local.
func (n *Netlink) AllAddresses() []netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []netip.Addr
	for _, l := range n.links {
		out = append(out, sorted(l.addrs, func(netip.Addr) bool { return true })...)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// EnsureDummy creates a dummy interface unless it exists; a non-dummy one of that
// name is an error.
func (n *Netlink) EnsureDummy(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if l := n.links[name]; l != nil {
		if !l.dummy {
			return syscall.EEXIST
		}
		return nil
	}
	n.links[name] = &link{dummy: true, addrs: map[netip.Addr]struct{}{}}
	return nil
}

// DeleteDummy deletes a dummy interface; a missing one is fine.
func (n *Netlink) DeleteDummy(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	l := n.links[name]
	if l == nil {
		return nil
	}
	if !l.dummy {
		return syscall.EPERM
	}
	delete(n.links, name)
	return nil
}

// Addresses lists the addresses of family on dev: ENODEV when it does not exist.
func (n *Netlink) Addresses(dev string, family v1.IPFamily) ([]netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	l := n.links[dev]
	if l == nil {
		return nil, syscall.ENODEV
	}
	return sorted(l.addrs, ofFamily(family, false)), nil
}

// AddAddress binds addr to dev: ENODEV when dev does not exist.
func (n *Netlink) AddAddress(dev string, addr netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	l := n.links[dev]
	if l == nil {
		return syscall.ENODEV
	}
	l.addrs[addr] = struct{}{}
	n.changed = n.changed || dev != n.except
	return nil
}

// DelAddress unbinds addr from dev.
func (n *Netlink) DelAddress(dev string, addr netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if l := n.links[dev]; l != nil {
		delete(l.addrs, addr)
		n.changed = n.changed || dev != n.except
	}
	return nil
}

// LocalAddresses lists the addresses of family on every interface but except,
// without loopback ones.
func (n *Netlink) LocalAddresses(family v1.IPFamily, except string) ([]netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	n.changed, n.except = false, except
	var out []netip.Addr
	for name, l := range n.links {
		if name != except {
			out = append(out, sorted(l.addrs, ofFamily(family, true))...)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// LocalAddressesChanged reports whether an address outside the interface the last
// LocalAddresses skipped was added or removed since then; true before the first
// LocalAddresses. It is not counted as a call: the kernel's answers it from memory.
func (n *Netlink) LocalAddressesChanged() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// ofFamily keeps addresses of family, never IPv6 link-local ones and, when
// noLoopback, no loopback ones.
func ofFamily(family v1.IPFamily, noLoopback bool) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		return a.Is6() == (family == v1.IPv6Protocol) && !(a.Is6() && a.IsLinkLocalUnicast()) &&
			!(noLoopback && a.IsLoopback())
	}
}

func sorted(m map[netip.Addr]struct{}, keep func(netip.Addr) bool) []netip.Addr {
	var out []netip.Addr
	for a := range m {
		if keep(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}
