package ipvsmode

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/moby/ipvs"

	"github.com/kproxy/kproxy/proxy"
)

// full reads what the kernel holds and makes it match every plan.
func (s *syncer) full(snap *proxy.Snapshot, env planEnv) error {
	nl := s.b.opts.Netlink
	if err := nl.EnsureDummy(DummyDevice); err != nil {
		return fmt.Errorf("creating %s: %w", DummyDevice, err)
	}
	bound, err := nl.Addresses(DummyDevice, s.c.family)
	if err != nil {
		return fmt.Errorf("listing the addresses of %s: %w", DummyDevice, err)
	}
	haveSets, err := s.readSets()
	if err != nil {
		return err
	}
	s.st = newState(env)
	if err := s.readServices(); err != nil {
		return err
	}
	s.clock.done(phaseRead)
	pl := planner{c: s.c, env: &s.st.env}
	for _, name := range snap.Sorted() {
		s.st.setPlan(name, pl.plan(snap.Services[name]), nil)
	}
	s.clock.done(phasePlan)
	adds, dels := entryDiff(s.st.entries, haveSets)
	if err := s.applySets(true, adds, dels); err != nil {
		return err
	}
	s.clock.done(phaseSets)
	if err := s.applyRules(true); err != nil {
		return err
	}
	if err := ensureJumps(s.ctx, s.b.opts.IPTables); err != nil {
		return err
	}
	s.clock.done(phaseRules)
	for _, key := range s.allKeys() {
		s.reconcile(key)
	}
	s.clock.done(phaseIPVS)
	s.bindAddresses(addrDiff(s.st.binds, bound))
	s.clock.done(phaseBind)
	s.finishTerminations()
	s.clock.done(phaseTerm)
	return s.result()
}

// readServices reads the virtual servers kproxy owns: those of the family, not
// marked by fwmark and outside the excluded ranges.
func (s *syncer) readServices() error {
	svcs, err := s.h.GetServices()
	if err != nil {
		return fmt.Errorf("listing virtual servers: %w", err)
	}
	for _, svc := range svcs {
		key, ok := s.c.ownKey(svc)
		if !ok {
			continue
		}
		dests, err := s.h.GetDestinations(svc)
		if err != nil {
			return fmt.Errorf("listing real servers of %s: %w", key, err)
		}
		svc.Flags &^= FlagHashed
		vs := &vsState{svc: svc, dests: make([]dest, 0, len(dests))}
		for _, d := range dests {
			if addr, ok := netip.AddrFromSlice(d.Address); ok {
				vs.dests = append(vs.dests, dest{netip.AddrPortFrom(addr.Unmap(), d.Port), d.Weight})
			}
		}
		slices.SortFunc(vs.dests, func(a, b dest) int { return a.ap.Compare(b.ap) })
		s.st.vs[key] = vs
	}
	return nil
}

// ownKey returns the key of a kernel virtual server kproxy owns.
func (c *config) ownKey(svc *ipvs.Service) (vsKey, bool) {
	if svc.FWMark != 0 || svc.AddressFamily != c.af {
		return vsKey{}, false
	}
	addr, ok := netip.AddrFromSlice(svc.Address)
	if !ok {
		return vsKey{}, false
	}
	addr = addr.Unmap()
	if !c.isFamily(addr) || c.excluded(addr) {
		return vsKey{}, false
	}
	return vsKey{proto: svc.Protocol, addr: addr, port: svc.Port}, true
}

// allKeys returns the keys of every virtual server wanted or held, sorted.
func (s *syncer) allKeys() []vsKey {
	keys := make([]vsKey, 0, len(s.st.vs)+len(s.st.claims))
	for k := range s.st.vs {
		keys = append(keys, k)
	}
	for k := range s.st.claims {
		if s.st.vs[k] == nil {
			keys = append(keys, k)
		}
	}
	return sortKeys(keys)
}

func sortKeys(keys []vsKey) []vsKey {
	slices.SortFunc(keys, func(a, b vsKey) int {
		return cmp.Or(cmp.Compare(a.proto, b.proto), a.addr.Compare(b.addr), cmp.Compare(a.port, b.port))
	})
	return keys
}
