package endpoints

import (
	"net/netip"
	"strconv"

	v1 "k8s.io/api/core/v1"
)

// Endpoint is one backend address of one service port, as merged from the EndpointSlices.
// Values are never mutated once built, so snapshots may share them.
type Endpoint struct {
	// IP is the endpoint's (first) address.
	IP netip.Addr
	// Port is the target port on the endpoint for this service port.
	Port uint16
	// Ready, Serving and Terminating are the EndpointSlice conditions (nil Ready/Serving count as true).
	Ready, Serving, Terminating bool
	// NodeName is the node hosting the endpoint, "" when unknown.
	NodeName string
	// Zone is the endpoint's zone, "" when unknown.
	Zone string
	// ZoneHints lists the zones this endpoint should serve (topology aware routing); nil when the
	// slice carried no hints.
	ZoneHints []string
	// Local reports whether the endpoint runs on this node.
	Local bool
}

// AddrPort returns the endpoint as an address and port.
func (e Endpoint) AddrPort() netip.AddrPort { return netip.AddrPortFrom(e.IP, e.Port) }

// String returns "ip:port" ("[ip]:port" for IPv6).
func (e Endpoint) String() string { return e.AddrPort().String() }

// usable reports whether the endpoint may take traffic when ready ones are lacking.
func (e Endpoint) servingTerminating() bool { return e.Serving && e.Terminating }

// PortKey names one port of a service inside its EndpointSlices: the port name and protocol.
type PortKey struct {
	Name     string
	Protocol v1.Protocol
}

// String returns "name/protocol".
func (k PortKey) String() string { return k.Name + "/" + string(k.Protocol) }

// conditionsRank orders duplicates: the copy with the better conditions wins.
func (e Endpoint) conditionsRank() int {
	switch {
	case e.Ready:
		return 2
	case e.Serving:
		return 1
	}
	return 0
}

// portString formats a port for logs.
func portString(p int32) string { return strconv.Itoa(int(p)) }
