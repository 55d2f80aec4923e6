package ipvstest

import (
	"fmt"
	"net/netip"
	"slices"
	"syscall"

	"github.com/moby/ipvs"
)

// GetDestinations lists a virtual server's real servers, sorted: ESRCH when the
// virtual server does not exist.
func (f *Fake) GetDestinations(s *ipvs.Service) ([]*ipvs.Destination, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.GetDestinations++
	svc, err := f.lookup(s)
	if err != nil {
		return nil, err
	}
	out := make([]*ipvs.Destination, 0, len(svc.dests))
	all := make([]ipvs.Destination, 0, len(svc.dests))
	for _, ap := range sortedDests(svc.dests) {
		all = append(all, svc.dests[ap].destination(ap))
		out = append(out, &all[len(all)-1])
	}
	return out, nil
}

// NewDestination adds a real server: ESRCH without the virtual server, EEXIST when
// the real server exists, EINVAL for a masqueraded one of another family.
func (f *Fake) NewDestination(s *ipvs.Service, d *ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.NewDestination++
	svc, ap, err := f.dest(s, d)
	if err != nil {
		return err
	}
	if _, ok := svc.dests[ap]; ok {
		return syscall.EEXIST
	}
	svc.dests[ap] = storedDest(d, ap)
	return nil
}

// UpdateDestination changes a real server's weight: ENOENT when it does not exist.
func (f *Fake) UpdateDestination(s *ipvs.Service, d *ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.UpdateDestination++
	svc, ap, err := f.dest(s, d)
	if err != nil {
		return err
	}
	old, ok := svc.dests[ap]
	if !ok {
		return syscall.ENOENT
	}
	n := storedDest(d, ap)
	n.active, n.inactive = old.active, old.inactive
	svc.dests[ap] = n
	return nil
}

// DelDestination deletes a real server: ENOENT when it does not exist.
func (f *Fake) DelDestination(s *ipvs.Service, d *ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.DelDestination++
	svc, ap, err := f.dest(s, d)
	if err != nil {
		return err
	}
	if _, ok := svc.dests[ap]; !ok {
		return syscall.ENOENT
	}
	delete(svc.dests, ap)
	return nil
}

// SetConnections sets the active and inactive connection counts of a real server,
// as traffic would.
func (f *Fake) SetConnections(vs Key, rs netip.AddrPort, active, inactive int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	svc := f.services[vs]
	if svc == nil {
		return fmt.Errorf("ipvstest: no virtual server %s", vs)
	}
	d, ok := svc.dests[rs]
	if !ok {
		return fmt.Errorf("ipvstest: no real server %s in %s", rs, vs)
	}
	d.active, d.inactive = active, inactive
	svc.dests[rs] = d
	return nil
}

// lookup returns the virtual server s names, or ESRCH.
func (f *Fake) lookup(s *ipvs.Service) (*service, error) {
	k, err := keyOf(s)
	if err != nil {
		return nil, err
	}
	svc := f.services[k]
	if svc == nil {
		return nil, syscall.ESRCH
	}
	return svc, nil
}

// dest returns the virtual server and the key of the real server d.
func (f *Fake) dest(s *ipvs.Service, d *ipvs.Destination) (*service, netip.AddrPort, error) {
	svc, err := f.lookup(s)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	family := d.AddressFamily
	if family == 0 {
		family = svc.svc.AddressFamily
	}
	addr, ok := addrOf(d.Address, family)
	switch {
	case !ok:
		return nil, netip.AddrPort{}, syscall.EAFNOSUPPORT
	case family != svc.svc.AddressFamily && d.ConnectionFlags&ipvs.ConnectionFlagFwdMask == ipvs.ConnectionFlagMasq:
		return nil, netip.AddrPort{}, syscall.EINVAL
	case d.Weight < 0:
		return nil, netip.AddrPort{}, syscall.ERANGE
	}
	return svc, netip.AddrPortFrom(addr, d.Port), nil
}

// realServer is what the Fake keeps of a real server; its address is the map key.
type realServer struct {
	weight           int
	flags            uint32
	family           uint16
	upper, lower     uint32
	active, inactive int
}

// storedDest is the copy of d the Fake keeps.
func storedDest(d *ipvs.Destination, ap netip.AddrPort) realServer {
	rs := realServer{weight: d.Weight, flags: d.ConnectionFlags, family: d.AddressFamily,
		upper: d.UpperThreshold, lower: d.LowerThreshold}
	if rs.family == 0 {
		rs.family = afInet
		if ap.Addr().Is6() {
			rs.family = afInet6
		}
	}
	return rs
}

// destination returns the real server as the kernel lists it.
func (rs realServer) destination(ap netip.AddrPort) ipvs.Destination {
	return ipvs.Destination{Address: ap.Addr().AsSlice(), Port: ap.Port(), Weight: rs.weight, ConnectionFlags: rs.flags,
		AddressFamily: rs.family, UpperThreshold: rs.upper, LowerThreshold: rs.lower,
		ActiveConnections: rs.active, InactiveConnections: rs.inactive}
}

func sortedDests(m map[netip.AddrPort]realServer) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(m))
	for ap := range m {
		out = append(out, ap)
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return out
}
