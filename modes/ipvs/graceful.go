package ipvsmode

import (
	"fmt"
	"net/netip"
	"time"

	"k8s.io/klog/v2"
)

// terminations are the real servers kept at weight 0 until their connections end
// or their deadline passes. They outlive failed syncs: a later full sync finds them
// in the kernel at weight 0 and leaves them be.
type terminations struct {
	deadlines map[termKey]time.Time
}

// termKey is one real server of one virtual server.
type termKey struct {
	vs vsKey
	rs netip.AddrPort
}

func (t *terminations) start(vs vsKey, rs netip.AddrPort, deadline time.Time) {
	if t.deadlines == nil {
		t.deadlines = map[termKey]time.Time{}
	}
	if _, ok := t.deadlines[termKey{vs, rs}]; !ok {
		t.deadlines[termKey{vs, rs}] = deadline
	}
}

func (t *terminations) has(vs vsKey, rs netip.AddrPort) bool {
	_, ok := t.deadlines[termKey{vs, rs}]
	return ok
}

func (t *terminations) cancel(vs vsKey, rs netip.AddrPort) { delete(t.deadlines, termKey{vs, rs}) }

// forget drops the terminations of a deleted virtual server.
func (t *terminations) forget(vs vsKey) {
	for k := range t.deadlines {
		if k.vs == vs {
			delete(t.deadlines, k)
		}
	}
}

// Len returns how many real servers are being terminated.
func (t *terminations) Len() int { return len(t.deadlines) }

// byVirtualServer groups the terminations.
func (t *terminations) byVirtualServer() map[vsKey][]termKey {
	out := map[vsKey][]termKey{}
	for k := range t.deadlines {
		out[k.vs] = append(out[k.vs], k)
	}
	return out
}

// finishTerminations deletes the terminating real servers whose connections have
// ended or whose deadline has passed. It reads the real servers of each virtual
// server holding one, so it costs nothing when none is terminating.
func (s *syncer) finishTerminations() {
	if s.term.Len() == 0 {
		return
	}
	now := s.c.clock.Now()
	for vs, keys := range s.term.byVirtualServer() {
		have := s.st.vs[vs]
		if have == nil {
			s.term.forget(vs)
			continue
		}
		conns, err := s.connections(have.svc)
		if err != nil {
			s.fail(fmt.Errorf("listing real servers of %s: %w", vs, err))
			continue
		}
		for _, k := range keys {
			n, present := conns[k.rs]
			switch {
			case !present:
				have.remove(k.rs)
				s.term.cancel(vs, k.rs)
			case n == 0 || !now.Before(s.term.deadlines[k]):
				klog.V(3).InfoS("Deleting terminated real server", "virtualServer", vs, "realServer", k.rs, "connections", n)
				s.delDest(vs, have, k.rs)
			}
		}
	}
}
