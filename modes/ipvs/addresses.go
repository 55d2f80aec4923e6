package ipvsmode

import (
	"fmt"
	"net/netip"
	"slices"
)

// bindAddresses binds new addresses to kube-ipvs0 and unbinds the ones no
// virtual server uses any more.
func (s *syncer) bindAddresses(add, del []netip.Addr) {
	slices.SortFunc(add, netip.Addr.Compare)
	slices.SortFunc(del, netip.Addr.Compare)
	for _, a := range add {
		if err := s.b.opts.Netlink.AddAddress(DummyDevice, a); err != nil {
			s.fail(fmt.Errorf("binding %s to %s: %w", a, DummyDevice, err))
		}
	}
	for _, a := range del {
		if err := s.b.opts.Netlink.DelAddress(DummyDevice, a); err != nil {
			s.fail(fmt.Errorf("unbinding %s from %s: %w", a, DummyDevice, err))
		}
	}
}

// addrDiff compares wanted counts with the addresses bound.
func addrDiff(want map[netip.Addr]int, have []netip.Addr) (add, del []netip.Addr) {
	bound := map[netip.Addr]bool{}
	for _, a := range have {
		bound[a] = true
		if want[a] == 0 {
			del = append(del, a)
		}
	}
	for a := range want {
		if !bound[a] {
			add = append(add, a)
		}
	}
	return add, del
}
