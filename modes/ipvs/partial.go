package ipvsmode

import (
	"github.com/kproxy/kproxy/proxy"
)

// partial replans the services changes names and applies the difference with what
// the backend programmed: the virtual servers, entries and addresses those plans
// add or drop. Untouched services cost nothing but a look at their name.
func (s *syncer) partial(snap *proxy.Snapshot, changes proxy.Changes) error {
	d := newDelta()
	pl := planner{c: s.c, env: &s.st.env}
	for name := range changes.Services {
		for _, port := range append([]proxy.ServicePortName(nil), s.st.byService[name]...) {
			if _, ok := snap.Services[port]; !ok {
				s.st.setPlan(port, nil, d)
			}
		}
	}
	if len(changes.Services) > 0 {
		for _, port := range snap.Sorted() {
			if changes.Touches(port.NamespacedName) {
				s.st.setPlan(port, pl.plan(snap.Services[port]), d)
			}
		}
	}
	adds, dels := entryCrossings(s.st.entries, d)
	if err := s.applySets(false, adds, dels); err != nil {
		return err
	}
	if err := s.applyRules(false); err != nil {
		return err
	}
	keys := make([]vsKey, 0, len(d.keys))
	for k := range d.keys {
		keys = append(keys, k)
	}
	for _, key := range sortKeys(keys) {
		s.reconcile(key)
	}
	s.bindAddresses(crossings(s.st.binds, d.binds))
	s.finishTerminations()
	return s.result()
}
