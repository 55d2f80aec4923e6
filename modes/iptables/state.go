package iptablesmode

import (
	"github.com/kproxy/kproxy/proxy"
)

// shared names a chain that holds rules of many services. A partial sync edits such
// a chain rule by rule (-D and -I at the rule's sorted position) instead of
// rewriting it.
type shared int

const (
	natServices     shared = iota // nat KUBE-SERVICES: cluster, external and LB IPs
	natNodePorts                  // nat KUBE-NODEPORTS: node ports
	filterServices                // filter KUBE-SERVICES: cluster IPs without endpoints
	filterExternal                // filter KUBE-EXTERNAL-SERVICES: external addresses without endpoints
	filterNodePorts               // filter KUBE-NODEPORTS: health check node ports
	filterFirewall                // filter KUBE-PROXY-FIREWALL: LB IPs with source ranges
	numShared
)

// sharedChain tells where a shared chain lives.
var sharedChain = [numShared]struct {
	nat  bool
	name string
}{
	natServices:     {true, chainServices},
	natNodePorts:    {true, chainNodePorts},
	filterServices:  {false, chainServices},
	filterExternal:  {false, chainExternalServices},
	filterNodePorts: {false, chainNodePorts},
	filterFirewall:  {false, chainProxyFirewall},
}

// serviceState is what one service port holds in the kernel: its rules in the shared
// chains (exact text, so a partial sync can delete them) and the nat chains it owns.
type serviceState struct {
	// svc is the service port as last programmed (immutable, shared with snapshots).
	svc *proxy.Service
	// specs are the port's rules in each shared chain, without "-A <chain> ".
	specs [numShared][]string
	// chains are the per-service and per-endpoint nat chains the port owns.
	chains []string
	// natRules counts the rules in those chains.
	natRules int
	// body is a hash of the port's chains as written, to skip rewriting them when
	// a touched port renders the same.
	body uint64
	// noLocal tells whether internal (resp. external) Local traffic found no local
	// endpoint, for the no-local-endpoints metric.
	noLocalInternal, noLocalExternal bool
}

// sharedRules counts the port's rules in shared chains of one table.
func (s *serviceState) sharedRules(nat bool) int {
	n := 0
	for c := range numShared {
		if sharedChain[c].nat == nat {
			n += len(s.specs[c])
		}
	}
	return n
}

// kernelState is what the backend believes the kernel holds after its last
// successful sync.
type kernelState struct {
	// services holds every programmed service port.
	services map[proxy.ServicePortName]*serviceState
	// order is the sorted list of services' names: shared chains hold their rules in
	// this order.
	order []proxy.ServicePortName
	// staticNAT and staticFilter count the rules that do not belong to a service.
	staticNAT, staticFilter int
	// totals over services, kept up to date by add.
	natRules, filterRules            int
	noLocalInternal, noLocalExternal int
}

// newKernelState returns an empty state for about n services.
func newKernelState(n int) *kernelState {
	return &kernelState{services: make(map[proxy.ServicePortName]*serviceState, n)}
}

// set records the state of one port (nil: removed), keeping the totals.
func (k *kernelState) set(name proxy.ServicePortName, s *serviceState) {
	if old := k.services[name]; old != nil {
		k.count(old, -1)
		delete(k.services, name)
	}
	if s != nil {
		k.services[name] = s
		k.count(s, 1)
	}
}

// count adds (sign 1) or removes (-1) a port's share of the totals.
func (k *kernelState) count(s *serviceState, sign int) {
	k.natRules += sign * (s.natRules + s.sharedRules(true))
	k.filterRules += sign * s.sharedRules(false)
	k.noLocalInternal += sign * btoi(s.noLocalInternal)
	k.noLocalExternal += sign * btoi(s.noLocalExternal)
}

// ownedChains returns every nat chain of every service.
func (k *kernelState) ownedChains() map[string]struct{} {
	out := make(map[string]struct{}, len(k.services))
	for _, s := range k.services {
		for _, c := range s.chains {
			out[c] = struct{}{}
		}
	}
	return out
}

// ruleCounts returns how many rules the state holds in nat and filter.
func (k *kernelState) ruleCounts() (nat, filter int) {
	return k.staticNAT + k.natRules, k.staticFilter + k.filterRules
}

// stateDelta is what a partial sync changes in the kernel state: new states of
// touched ports (nil for a removed port).
type stateDelta map[proxy.ServicePortName]*serviceState

// apply commits a successful partial sync into k; order is the new order when the
// set of ports changed, else nil.
func (k *kernelState) apply(d stateDelta, order []proxy.ServicePortName) {
	for name, s := range d {
		k.set(name, s)
	}
	if order != nil {
		k.order = order
	}
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
