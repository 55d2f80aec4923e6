package iptablestest

import (
	"fmt"
	"net/netip"
	"strings"
)

// Packet is the first packet of a new connection, as the Tracer sees it.
type Packet struct {
	// Source and SourcePort are where the packet comes from.
	Source     netip.Addr
	SourcePort uint16
	// Protocol is "tcp", "udp" or "sctp".
	Protocol string
	// Dest and DestPort are where it is sent.
	Dest     netip.Addr
	DestPort uint16
	// Local is set for a packet generated on the node (nat OUTPUT); a
	// packet arriving from outside goes through nat PREROUTING.
	Local bool
	// InIface is the interface an arriving packet came in on; "eth0" when
	// empty. Local packets have none.
	InIface string
	// OutIface is the interface the packet leaves by; when empty "lo" for
	// a local destination, "eth0" otherwise.
	OutIface string
	// Mark is the packet's initial mark.
	Mark uint32
	// CTState is the conntrack state, "NEW" when empty.
	CTState string
}

// Node is what the Tracer knows about the node beyond its iptables.
type Node struct {
	// LocalAddrs are the node's addresses, which addrtype LOCAL matches
	// besides loopback addresses.
	LocalAddrs []netip.Addr
	// IPSets are the sets "-m set" looks into; nil uses the Fake's.
	IPSets IPSets
}

// Verdict is what finally happens to a traced packet.
type Verdict uint8

const (
	// Accept: delivered or forwarded to its original destination.
	Accept Verdict = iota
	// DNAT: delivered or forwarded to a new destination.
	DNAT
	// Redirect: delivered to a port on the node.
	Redirect
	// Reject: refused with an error sent back.
	Reject
	// Drop: silently dropped.
	Drop
)

// String returns the verdict in upper case, like the iptables target.
func (v Verdict) String() string {
	return [...]string{"ACCEPT", "DNAT", "REDIRECT", "REJECT", "DROP"}[v]
}

// Outcome is one way a traced packet can end.
type Outcome struct {
	Verdict Verdict
	// To is the new destination of DNAT, or the port (with an invalid
	// address) of Redirect.
	To netip.AddrPort
	// Masquerade is set when the source was rewritten (MASQUERADE or SNAT).
	Masquerade bool
}

// String returns "DNAT 10.0.0.1:80", "REDIRECT :15001", "REJECT", ...,
// with " masq" appended when the source was rewritten.
func (o Outcome) String() string {
	s := o.Verdict.String()
	switch o.Verdict {
	case DNAT:
		s += " " + o.To.String()
	case Redirect:
		s += fmt.Sprintf(" :%d", o.To.Port())
	}
	if o.Masquerade {
		s += " masq"
	}
	return s
}

// Outcomes is a set of outcomes, sorted by their String.
type Outcomes []Outcome

// Strings returns each outcome's String.
func (os Outcomes) Strings() []string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = o.String()
	}
	return s
}

// String joins the outcomes with ", ".
func (os Outcomes) String() string { return strings.Join(os.Strings(), ", ") }
