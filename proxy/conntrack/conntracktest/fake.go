// Package conntracktest holds a stateful fake of the conntrack seam (proxy/conntrack):
// a table of flows that ClearFlows deletes from the way the kernel's conntrack
// would, so tests can check which connections survive a sync.
package conntracktest

import (
	"net/netip"
	"slices"
	"sync"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/conntrack"
)

// Flow is one conntrack entry, as far as kproxy cares.
type Flow struct {
	Protocol v1.Protocol
	// Source is the client; Dest is where it sent (the original direction).
	Source, Dest netip.AddrPort
	// DNAT is the endpoint the flow was DNATed to, the zero Addr when it was not.
	DNAT netip.Addr
}

// Fake is an in-memory conntrack table. It is safe for concurrent use.
type Fake struct {
	mu    sync.Mutex
	flows []Flow
	calls int
}

var _ conntrack.Interface = (*Fake)(nil)

// New returns a table holding flows.
func New(flows ...Flow) *Fake { return &Fake{flows: flows} }

// Add adds flows to the table.
func (f *Fake) Add(flows ...Flow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flows = append(f.flows, flows...)
}

// Flows returns the flows the table holds.
func (f *Fake) Flows() []Flow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.flows)
}

// Calls returns how many times ClearFlows was called with at least one flow.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// ClearFlows deletes the flows matching any of stale.
func (f *Fake) ClearFlows(stale []conntrack.StaleFlow) error {
	if len(stale) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.flows = slices.DeleteFunc(f.flows, func(fl Flow) bool {
		return slices.ContainsFunc(stale, func(s conntrack.StaleFlow) bool { return matches(s, fl) })
	})
	return nil
}

// matches reports whether a stale-flow filter selects fl, as the netlink filter
// does: protocol, original destination port, original destination address when
// given, reply source (the DNAT endpoint) when given.
func matches(s conntrack.StaleFlow, fl Flow) bool {
	if s.Protocol != fl.Protocol || s.Port != fl.Dest.Port() {
		return false
	}
	if s.Dest.IsValid() && s.Dest != fl.Dest.Addr() {
		return false
	}
	if s.Endpoint.IsValid() && s.Endpoint != fl.DNAT {
		return false
	}
	return true
}
