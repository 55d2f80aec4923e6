package ipvsmode

import (
	"net/netip"
	"os"

	"k8s.io/klog/v2"
)

// NetlinkFaultsFromEnv returns n as is, or, when KPROXY_IPVS_FAULTS names a
// marker file, n wrapped so that its writes (the dummy interface and its
// addresses) fail while that file exists. Test only, like FaultsFromEnv.
func NetlinkFaultsFromEnv(n Netlink) Netlink {
	marker := os.Getenv(EnvFaults)
	if marker == "" {
		return n
	}
	klog.InfoS("Test only: netlink writes fail while the marker file exists", "env", EnvFaults, "marker", marker)
	return &netlinkFaults{Netlink: n, gate: markerFaults{marker: marker}}
}

// netlinkFaults fails the writes of the Netlink it wraps while its gate's marker
// exists. It keeps the wrapped seam's address notifications (AddressWatcher).
type netlinkFaults struct {
	Netlink
	gate markerFaults
}

var (
	_ Netlink        = (*netlinkFaults)(nil)
	_ AddressWatcher = (*netlinkFaults)(nil)
)

// EnsureDummy fails while the marker exists.
func (f *netlinkFaults) EnsureDummy(name string) error {
	return f.gate.write("EnsureDummy", func() error { return f.Netlink.EnsureDummy(name) })
}

// AddAddress fails while the marker exists.
func (f *netlinkFaults) AddAddress(dev string, addr netip.Addr) error {
	return f.gate.write("AddAddress", func() error { return f.Netlink.AddAddress(dev, addr) })
}

// DelAddress fails while the marker exists.
func (f *netlinkFaults) DelAddress(dev string, addr netip.Addr) error {
	return f.gate.write("DelAddress", func() error { return f.Netlink.DelAddress(dev, addr) })
}

// LocalAddressesChanged forwards to the wrapped seam when it follows address
// notifications, and otherwise says the addresses may have changed.
func (f *netlinkFaults) LocalAddressesChanged() bool {
	if w, ok := f.Netlink.(AddressWatcher); ok {
		return w.LocalAddressesChanged()
	}
	return true
}
