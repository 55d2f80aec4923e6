package packetflow

import (
	"net/netip"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Verdict is what becomes of a packet that reaches no endpoint.
type Verdict string

const (
	// Forwarded means the packet reaches one of the case's endpoints.
	Forwarded Verdict = ""
	// Rejected means the connection is refused at once (ICMP unreachable or RST).
	Rejected Verdict = "REJECT"
	// Dropped means the packet is silently discarded.
	Dropped Verdict = "DROP"
)

// Case is one packet and what the proxy must do with it.
type Case struct {
	Name string
	// Source is the client's address.
	Source netip.Addr
	// Protocol is TCP, UDP or SCTP.
	Protocol v1.Protocol
	// Dest and Port are where the client sends.
	Dest netip.Addr
	Port uint16
	// Local is set for a packet sent by a process of the node itself (host network);
	// otherwise the packet arrives from a pod or from outside the node.
	Local bool
	// Endpoints are the endpoints the connection may reach, any of them, when
	// Verdict is Forwarded.
	Endpoints []netip.AddrPort
	// Verdict is Forwarded, Rejected or Dropped.
	Verdict Verdict
	// Masquerade says the endpoint sees the node's address instead of Source.
	Masquerade bool
	// MasqueradeOnly, when not nil, lists the only endpoints for which the source is
	// masqueraded (a pod reaching itself through its service); Masquerade is then
	// ignored.
	MasqueradeOnly []netip.AddrPort
}

// Outcome is one way a packet can end, in a form every mode's tracer can be
// converted to.
type Outcome struct {
	Verdict    Verdict
	Endpoint   netip.AddrPort // when Verdict is Forwarded
	Masquerade bool
}

// String prints "10.0.0.1:80", "10.0.0.1:80 masq", "REJECT" or "DROP".
func (o Outcome) String() string {
	if o.Verdict != Forwarded {
		return string(o.Verdict)
	}
	if o.Masquerade {
		return o.Endpoint.String() + " masq"
	}
	return o.Endpoint.String()
}

// Want returns the sorted set of outcomes the case expects.
func (c Case) Want() []Outcome {
	if c.Verdict != Forwarded {
		return []Outcome{{Verdict: c.Verdict}}
	}
	out := make([]Outcome, 0, len(c.Endpoints))
	for _, ep := range c.Endpoints {
		masq := c.Masquerade
		if c.MasqueradeOnly != nil {
			masq = slices.Contains(c.MasqueradeOnly, ep)
		}
		out = append(out, Outcome{Endpoint: ep, Masquerade: masq})
	}
	return SortOutcomes(out)
}

// SortOutcomes sorts outcomes by their String and drops duplicates.
func SortOutcomes(os []Outcome) []Outcome {
	slices.SortFunc(os, func(a, b Outcome) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(os)
}

// Format joins outcomes with ", " for test messages.
func Format(os []Outcome) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = o.String()
	}
	return strings.Join(s, ", ")
}
