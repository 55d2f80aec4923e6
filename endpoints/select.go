package endpoints

import "slices"

// Policy says which traffic policies of a service port ask for node-local endpoints.
type Policy struct {
	// InternalLocal is internalTrafficPolicy: Local.
	InternalLocal bool
	// ExternalLocal is externalTrafficPolicy: Local on a service reachable from outside the
	// cluster (node port, external IP or load-balancer IP).
	ExternalLocal bool
}

// usesCluster reports whether some traffic of the service may go to any endpoint: all
// internal traffic under the Cluster policy, and any externally reachable service, since
// even under externalTrafficPolicy Local the traffic of pods and of the node itself to an
// external address is short-circuited to the cluster endpoints.
func (p Policy) usesCluster(externallyReachable bool) bool {
	return !p.InternalLocal || externallyReachable
}

// usesLocal reports whether some traffic of the service must stay on this node.
func (p Policy) usesLocal() bool { return p.InternalLocal || p.ExternalLocal }

// Selection is the endpoints of one service port that this node sends traffic to.
type Selection struct {
	// Cluster takes traffic under the Cluster policy; nil when no traffic uses that policy.
	Cluster []Endpoint
	// Local takes traffic under a Local policy: this node's endpoints; nil when no traffic
	// uses a Local policy or none is local.
	Local []Endpoint
	// Any reports whether some endpoint anywhere can take traffic: a service without local
	// endpoints then drops Local traffic instead of rejecting it.
	Any bool
}

// Select chooses the endpoints this node uses for one service port, as kube-proxy does:
// ready endpoints; serving-and-terminating ones only when none is ready; for Cluster
// traffic, topology hints for zone when every candidate has hints and one matches;
// local endpoints for Local policies. externallyReachable tells whether the port has a
// node port, external IP or load-balancer IP.
func Select(eps []Endpoint, p Policy, externallyReachable bool, zone string) Selection {
	var sel Selection
	if p.usesCluster(externallyReachable) {
		sel.Cluster = byTopology(usable(eps, func(Endpoint) bool { return true }), zone)
	}
	if p.usesLocal() {
		sel.Local = usable(eps, func(e Endpoint) bool { return e.Local })
	}
	sel.Any = len(sel.Cluster) > 0 || slices.ContainsFunc(eps, func(e Endpoint) bool {
		return e.Ready || e.servingTerminating()
	})
	return sel
}

// usable returns the ready endpoints that pass keep or, when none is ready, the serving
// and terminating ones; nil when neither exists.
func usable(eps []Endpoint, keep func(Endpoint) bool) []Endpoint {
	ready := filter(eps, func(e Endpoint) bool { return e.Ready && keep(e) })
	if len(ready) > 0 {
		return ready
	}
	return filter(eps, func(e Endpoint) bool { return e.servingTerminating() && keep(e) })
}

// byTopology keeps the endpoints hinted for zone, when hints may be trusted: every
// endpoint carries hints and at least one names zone. Otherwise it returns eps unchanged.
func byTopology(eps []Endpoint, zone string) []Endpoint {
	if zone == "" || len(eps) == 0 {
		return eps
	}
	matched := false
	for _, e := range eps {
		if len(e.ZoneHints) == 0 {
			return eps
		}
		matched = matched || slices.Contains(e.ZoneHints, zone)
	}
	if !matched {
		return eps
	}
	return filter(eps, func(e Endpoint) bool { return slices.Contains(e.ZoneHints, zone) })
}

// filter returns the endpoints that pass keep, or nil. When every endpoint passes it
// returns eps itself: endpoint lists are never mutated, and at 10k services most
// selections keep everything, so sharing saves a copy of every list.
func filter(eps []Endpoint, keep func(Endpoint) bool) []Endpoint {
	kept := 0
	for _, e := range eps {
		if keep(e) {
			kept++
		}
	}
	switch kept {
	case 0:
		return nil
	case len(eps):
		return eps[:len(eps):len(eps)] // capped: an append never writes into eps
	}
	out := make([]Endpoint, 0, kept)
	for _, e := range eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}
