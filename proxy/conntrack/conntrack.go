// Package conntrack is the kernel seam the iptables and IPVS modes share for
// removing stale conntrack entries: StaleFlow describes entries a sync made
// wrong, Interface removes them, Netlink does so through the kernel's netlink
// API, and conntracktest holds a stateful fake.
package conntrack

import (
	"net/netip"

	v1 "k8s.io/api/core/v1"
)

// StaleFlow describes conntrack entries that a sync made wrong. UDP has no
// connection close, so an entry created while a service had no endpoint (the
// packet was rejected or not DNATed) or DNATed to an endpoint that is now gone
// would keep catching the client's packets until it times out.
type StaleFlow struct {
	Protocol v1.Protocol
	// Dest and Port are the address the client sent to: a cluster, external or
	// load-balancer IP, a node address, or, when Dest is the zero Addr, any
	// address (a node port in iptables mode).
	Dest netip.Addr
	Port uint16
	// Endpoint, when valid, limits the match to entries DNATed to that address;
	// when zero every entry to Dest:Port matches.
	Endpoint netip.Addr
}

// Interface removes stale conntrack entries. A backend calls it after each sync
// that made some (see StaleFlow); an error is logged, the sync still counts as
// done.
type Interface interface {
	// ClearFlows deletes every entry matching one of flows; none is a no-op.
	ClearFlows(flows []StaleFlow) error
}
