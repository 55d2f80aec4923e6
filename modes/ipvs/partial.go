package ipvsmode

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// partial replans the services changes names and applies the difference with what
// the backend programmed: the virtual servers, entries and addresses those plans
// add or drop. It reads nothing from the kernel (but the connection counts of a
// TCP virtual server losing real servers), and runs ipset or iptables-restore only
// when set entries come or go. Untouched services cost nothing.
func (s *syncer) partial(snap *proxy.Snapshot, changes proxy.Changes) error {
	d := newDelta()
	pl := planner{c: s.c, env: &s.st.env}
	for name := range changes.Services {
		for _, port := range append([]proxy.ServicePortName(nil), s.st.byService[name]...) {
			if _, ok := snap.Services[port]; !ok {
				s.st.setPlan(port, nil, d)
			}
		}
		for _, port := range portsOf(snap, name) {
			s.st.setPlan(port, pl.plan(snap.Services[port]), d)
		}
	}
	s.clock.done(phasePlan)
	adds, dels := entryCrossings(s.st.entries, d)
	if err := s.applySets(false, adds, dels); err != nil {
		return err
	}
	s.clock.done(phaseSets)
	// The rules depend only on which sets are empty and on the node-access
	// filters: without entries coming or going, neither changed.
	if len(adds)+len(dels) > 0 || d.filters {
		if err := s.applyRules(false); err != nil {
			return err
		}
	}
	s.clock.done(phaseRules)
	keys := make([]vsKey, 0, len(d.keys))
	for k := range d.keys {
		keys = append(keys, k)
	}
	for _, key := range sortKeys(keys) {
		s.reconcile(key)
	}
	s.clock.done(phaseIPVS)
	s.bindAddresses(crossings(s.st.binds, d.binds))
	s.clock.done(phaseBind)
	s.finishTerminations()
	s.clock.done(phaseTerm)
	return s.result()
}

// portsOf returns the ports of one service in the snapshot, found by binary search
// in its sorted names.
func portsOf(snap *proxy.Snapshot, name types.NamespacedName) []proxy.ServicePortName {
	sorted := snap.Sorted()
	byName := func(p proxy.ServicePortName, n types.NamespacedName) int {
		return cmp.Or(cmp.Compare(p.Namespace, n.Namespace), cmp.Compare(p.Name, n.Name))
	}
	i, _ := slices.BinarySearchFunc(sorted, name, byName)
	j := i
	for j < len(sorted) && byName(sorted[j], name) == 0 {
		j++
	}
	return sorted[i:j]
}
