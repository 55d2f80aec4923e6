package ipvsmode

import (
	"net/netip"
	"slices"

	"github.com/moby/ipvs"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// state is what the kernel holds after the last successful sync: the plan of
// every service port, and the refcounted union of those plans, which is what was
// programmed. A failed sync discards it; the next sync is full and rebuilds it
// from the kernel.
type state struct {
	ports     map[proxy.ServicePortName]*portPlan
	byService map[types.NamespacedName][]proxy.ServicePortName
	// claims lists, per virtual server, the service ports wanting it; the one with
	// the smallest name wins, so the outcome does not depend on sync order.
	claims map[vsKey]claims
	// vs are the virtual servers of the family kproxy owns, as programmed: real
	// servers being terminated are there with weight 0.
	vs map[vsKey]*vsState
	// entries counts the plans holding each entry of each set.
	entries [numSets]map[string]int
	// binds counts the plans binding each address to kube-ipvs0.
	binds map[netip.Addr]int
	// outFilters counts the plans wanting each node-access filter rule.
	outFilters map[outFilter]int
	// env is the node's addresses the plans were made with.
	env planEnv
	// rules is the iptables payload last applied.
	rules []byte
}

// claim is one service port's wish for a virtual server.
type claim struct {
	name proxy.ServicePortName
	vs   *vserver
}

// claims are the wishes for one virtual server: nearly always one, kept without
// allocating; two services asking for the same address and port add more.
type claims struct {
	first claim
	more  []claim
}

// add adds a claim.
func (c claims) add(n claim) claims {
	if c.first.vs == nil {
		c.first = n
	} else {
		c.more = append(c.more, n)
	}
	return c
}

// drop removes the claim of name.
func (c claims) drop(name proxy.ServicePortName) claims {
	if c.first.name == name && c.first.vs != nil {
		c.first = claim{}
		if len(c.more) > 0 {
			c.first, c.more = c.more[0], c.more[1:]
		}
		return c
	}
	c.more = slices.DeleteFunc(c.more, func(m claim) bool { return m.name == name })
	return c
}

// winner returns the claim of the smallest name, nil for none.
func (c claims) winner() *vserver {
	best := c.first
	for _, m := range c.more {
		if m.name.Compare(best.name) < 0 {
			best = m
		}
	}
	return best.vs
}

// vsState is a virtual server as the kernel holds it.
type vsState struct {
	svc   *ipvs.Service
	dests []dest // sorted by address and port
}

// dest is a real server as the kernel holds it.
type dest struct {
	ap     netip.AddrPort
	weight int
}

// find returns the index of the real server ap, or where it would go.
func (v *vsState) find(ap netip.AddrPort) (int, bool) {
	return slices.BinarySearchFunc(v.dests, ap, func(d dest, ap netip.AddrPort) int { return d.ap.Compare(ap) })
}

// setWeight records a real server's weight, adding it when missing.
func (v *vsState) setWeight(ap netip.AddrPort, w int) {
	if i, ok := v.find(ap); ok {
		v.dests[i].weight = w
	} else {
		v.dests = slices.Insert(v.dests, i, dest{ap, w})
	}
}

// remove forgets a real server.
func (v *vsState) remove(ap netip.AddrPort) {
	if i, ok := v.find(ap); ok {
		v.dests = slices.Delete(v.dests, i, i+1)
	}
}

// serving reports whether a real server takes new connections (weight above 0).
func (v *vsState) serving() bool {
	return slices.ContainsFunc(v.dests, func(d dest) bool { return d.weight > 0 })
}

// matches reports whether the real servers are exactly want, all at weight 1.
func (v *vsState) matches(want []netip.AddrPort) bool {
	if len(v.dests) != len(want) {
		return false
	}
	for i, d := range v.dests {
		if d.ap != want[i] || d.weight != 1 {
			return false
		}
	}
	return true
}

// newState returns an empty state for env.
func newState(env planEnv) *state {
	s := &state{
		ports:      map[proxy.ServicePortName]*portPlan{},
		byService:  map[types.NamespacedName][]proxy.ServicePortName{},
		claims:     map[vsKey]claims{},
		vs:         map[vsKey]*vsState{},
		binds:      map[netip.Addr]int{},
		outFilters: map[outFilter]int{},
		env:        env,
	}
	for i := range s.entries {
		s.entries[i] = map[string]int{}
	}
	return s
}

// delta collects what a change of plans changed: the virtual servers to reconcile
// and the net change of each count.
type delta struct {
	keys    map[vsKey]struct{}
	entries [numSets]map[string]int
	binds   map[netip.Addr]int
	// filters is set when a plan with node-access filters came or went.
	filters bool
}

func newDelta() *delta {
	d := &delta{keys: map[vsKey]struct{}{}, binds: map[netip.Addr]int{}}
	for i := range d.entries {
		d.entries[i] = map[string]int{}
	}
	return d
}

// setPlan replaces the plan of one service port (nil removes it) and records the
// changes in d, unless d is nil (a full sync compares with the kernel instead).
func (s *state) setPlan(name proxy.ServicePortName, p *portPlan, d *delta) {
	if old := s.ports[name]; old != nil {
		s.count(name, old, -1, d)
		delete(s.ports, name)
		s.unlistPort(name)
	}
	if p != nil {
		s.ports[name] = p
		s.byService[name.NamespacedName] = append(s.byService[name.NamespacedName], name)
		s.count(name, p, 1, d)
	}
}

// count adds (by +1) or removes (by -1) a plan's contributions.
func (s *state) count(name proxy.ServicePortName, p *portPlan, by int, d *delta) {
	for i := range p.vservers {
		v := &p.vservers[i]
		if by > 0 {
			s.claims[v.key] = s.claims[v.key].add(claim{name, v})
		} else if c := s.claims[v.key].drop(name); c.first.vs == nil {
			delete(s.claims, v.key)
		} else {
			s.claims[v.key] = c
		}
		if d != nil {
			d.keys[v.key] = struct{}{}
		}
	}
	for _, e := range p.entries {
		bump(s.entries[e.set], e.entry, by)
		if d != nil {
			d.entries[e.set][e.entry] += by
		}
	}
	for _, a := range p.binds {
		bump(s.binds, a, by)
		if d != nil {
			d.binds[a] += by
		}
	}
	for _, f := range p.outFilters {
		bump(s.outFilters, f, by)
	}
	if d != nil && len(p.outFilters) > 0 {
		d.filters = true
	}
}

// unlistPort removes name from its service's list.
func (s *state) unlistPort(name proxy.ServicePortName) {
	ports := slices.DeleteFunc(s.byService[name.NamespacedName], func(n proxy.ServicePortName) bool { return n == name })
	if len(ports) == 0 {
		delete(s.byService, name.NamespacedName)
	} else {
		s.byService[name.NamespacedName] = ports
	}
}

// wanted returns the virtual server that wins key, or nil when no port wants it.
func (s *state) wanted(key vsKey) *vserver { return s.claims[key].winner() }

// bump adds by to m[k], deleting the key at zero.
func bump[K comparable](m map[K]int, k K, by int) {
	if n := m[k] + by; n == 0 {
		delete(m, k)
	} else {
		m[k] = n
	}
}

// crossings returns the keys whose count went from 0 to positive (added) and from
// positive to 0 (removed), given the counts now and their net changes.
func crossings[K comparable](now, changes map[K]int) (added, removed []K) {
	for k, by := range changes {
		after := now[k]
		before := after - by
		switch {
		case before == 0 && after > 0:
			added = append(added, k)
		case before > 0 && after == 0:
			removed = append(removed, k)
		}
	}
	return added, removed
}
