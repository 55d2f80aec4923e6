package ipvsmode

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/moby/ipvs"
	"k8s.io/klog/v2"
)

// reconcile makes the kernel's virtual server key match what the plans want:
// it adds, updates or deletes the virtual server and its real servers.
func (s *syncer) reconcile(key vsKey) {
	want, have := s.st.wanted(key), s.st.vs[key]
	switch {
	case want == nil && have == nil:
	case want == nil:
		s.delService(key, have)
	case have == nil:
		s.newService(want)
	default:
		s.updateService(want, have)
		s.syncDests(want, have)
	}
}

// newService adds a virtual server and its real servers.
func (s *syncer) newService(want *vserver) {
	svc := s.c.service(want)
	if err := s.h.NewService(svc); err != nil {
		s.fail(fmt.Errorf("adding virtual server %s: %w", want.key, err))
		return
	}
	have := &vsState{svc: svc} // syncDests allocates the real servers
	s.st.vs[want.key] = have
	s.syncDests(want, have)
}

// updateService changes the scheduler, flags or timeout when they differ.
func (s *syncer) updateService(want *vserver, have *vsState) {
	if have.svc.SchedName == s.c.scheduler && have.svc.Flags&^FlagHashed == want.flags && have.svc.Timeout == want.timeout {
		return
	}
	svc := s.c.service(want)
	if err := s.h.UpdateService(svc); err != nil {
		s.fail(fmt.Errorf("updating virtual server %s: %w", want.key, err))
		return
	}
	have.svc = svc
}

// delService deletes a virtual server no plan wants; its real servers go with it.
func (s *syncer) delService(key vsKey, have *vsState) {
	if err := s.h.DelService(have.svc); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.fail(fmt.Errorf("deleting virtual server %s: %w", key, err))
		return
	}
	delete(s.st.vs, key)
	s.term.forget(key)
	s.staleFlow(key, netip.Addr{})
}

// syncDests adds the wanted real servers, gives weight 1 back to those that had
// been put to 0, and terminates the ones no longer wanted. Both lists are sorted:
// one walk compares them.
func (s *syncer) syncDests(want *vserver, have *vsState) {
	if have.matches(want.dests) {
		return
	}
	serving := have.serving()
	defer func() {
		if !serving && have.serving() {
			s.staleFlow(want.key, netip.Addr{}) // the first endpoint
		}
	}()
	var gone []netip.AddrPort
	next := make([]dest, 0, max(len(want.dests), len(have.dests)))
	i, j := 0, 0
	for i < len(want.dests) || j < len(have.dests) {
		c := -1
		switch {
		case i == len(want.dests):
			c = 1
		case j < len(have.dests):
			c = want.dests[i].Compare(have.dests[j].ap)
		}
		switch {
		case c < 0:
			if s.addDest(want.key, have, want.dests[i], false) {
				next = append(next, dest{want.dests[i], 1})
			}
			i++
		case c == 0:
			d := have.dests[j]
			if d.weight == 1 || s.addDest(want.key, have, d.ap, true) {
				d.weight = 1
			}
			next = append(next, d)
			i, j = i+1, j+1
		default:
			if !s.term.has(want.key, have.dests[j].ap) {
				gone = append(gone, have.dests[j].ap)
			}
			next = append(next, have.dests[j])
			j++
		}
	}
	have.dests = next
	if len(gone) > 0 {
		s.removeDests(want.key, have, gone)
	}
}

// addDest adds a real server, or gives it weight 1 back when it exists; it reports
// success.
func (s *syncer) addDest(key vsKey, have *vsState, ap netip.AddrPort, exists bool) bool {
	var err error
	if exists {
		err = s.h.UpdateDestination(have.svc, s.destination(ap, 1))
	} else {
		err = s.h.NewDestination(have.svc, s.destination(ap, 1))
	}
	if err != nil {
		s.fail(fmt.Errorf("adding real server %s to %s: %w", ap, key, err))
		return false
	}
	s.term.cancel(key, ap)
	return true
}

// removeDests takes real servers out of a virtual server: UDP ones at once (the
// kernel expires their flows, expire_nodest_conn=1), others at once when they
// have no connection, else at weight 0 until their connections end (graceful
// termination).
func (s *syncer) removeDests(key vsKey, have *vsState, gone []netip.AddrPort) {
	var conns map[netip.AddrPort]int
	if key.proto != syscall.IPPROTO_UDP {
		var err error
		if conns, err = s.connections(have.svc); err != nil {
			s.fail(fmt.Errorf("listing real servers of %s: %w", key, err))
			return
		}
	}
	for _, ap := range gone {
		if conns[ap] == 0 {
			s.delDest(key, have, ap)
			continue
		}
		if i, _ := have.find(ap); have.dests[i].weight != 0 {
			if err := s.h.UpdateDestination(have.svc, s.destination(ap, 0)); err != nil {
				s.fail(fmt.Errorf("draining real server %s of %s: %w", ap, key, err))
				continue
			}
			have.dests[i].weight = 0
		}
		klog.V(3).InfoS("Terminating real server gracefully", "virtualServer", key, "realServer", ap, "connections", conns[ap])
		s.term.start(key, ap, s.c.clock.Now().Add(s.c.gracePeriod))
	}
}

// delDest deletes one real server.
func (s *syncer) delDest(key vsKey, have *vsState, ap netip.AddrPort) {
	err := s.h.DelDestination(have.svc, s.destination(ap, 0))
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		s.fail(fmt.Errorf("deleting real server %s of %s: %w", ap, key, err))
		return
	}
	have.remove(ap)
	s.term.cancel(key, ap)
	s.staleFlow(key, ap.Addr())
}

// connections returns the active plus inactive connections of each real server.
func (s *syncer) connections(svc *ipvs.Service) (map[netip.AddrPort]int, error) {
	dests, err := s.h.GetDestinations(svc)
	if err != nil {
		return nil, err
	}
	out := make(map[netip.AddrPort]int, len(dests))
	for _, d := range dests {
		if addr, ok := netip.AddrFromSlice(d.Address); ok {
			out[netip.AddrPortFrom(addr.Unmap(), d.Port)] = d.ActiveConnections + d.InactiveConnections
		}
	}
	return out, nil
}

// service returns the kernel form of a virtual server.
func (c *config) service(v *vserver) *ipvs.Service {
	return &ipvs.Service{
		Address:       v.key.addr.AsSlice(),
		Protocol:      v.key.proto,
		Port:          v.key.port,
		SchedName:     c.scheduler,
		Flags:         v.flags,
		Timeout:       v.timeout,
		Netmask:       c.netmask,
		AddressFamily: c.af,
	}
}

// destination returns the kernel form of a masqueraded real server. It reuses one
// value per sync: handles copy what they are given.
func (s *syncer) destination(ap netip.AddrPort, weight int) *ipvs.Destination {
	d := &s.dest
	a := ap.Addr()
	if a.Is4() {
		b := a.As4()
		d.Address = append(d.Address[:0], b[:]...)
	} else {
		b := a.As16()
		d.Address = append(d.Address[:0], b[:]...)
	}
	d.Port, d.Weight, d.AddressFamily, d.ConnectionFlags = ap.Port(), weight, s.c.af, ipvs.ConnectionFlagMasq
	return d
}
