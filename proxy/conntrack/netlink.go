package conntrack

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
)

// Netlink clears stale flows of one IP family through netlink, with one walk of
// the conntrack table per call whatever the number of flows.
type Netlink struct {
	family netlink.InetFamily
}

var _ Interface = (*Netlink)(nil)

// NewNetlink returns the kernel's conntrack table for family, in the network
// namespace of the calling thread.
func NewNetlink(family v1.IPFamily) *Netlink {
	f := netlink.InetFamily(unix.AF_INET)
	if family == v1.IPv6Protocol {
		f = unix.AF_INET6
	}
	return &Netlink{family: f}
}

// ClearFlows deletes every conntrack entry matching one of flows.
func (c *Netlink) ClearFlows(flows []StaleFlow) error {
	if len(flows) == 0 {
		return nil
	}
	filters := make([]netlink.CustomConntrackFilter, 0, len(flows))
	for _, f := range flows {
		filter, err := filterOf(f)
		if err != nil {
			return err
		}
		filters = append(filters, filter)
	}
	_, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, c.family, filters...)
	if err != nil {
		return fmt.Errorf("clearing %d stale conntrack flows: %w", len(flows), err)
	}
	return nil
}

// filterOf builds the netlink filter of one stale flow: protocol, original
// destination port, original destination address if any, and reply source (the
// endpoint the flow was DNATed to) if any.
func filterOf(f StaleFlow) (*netlink.ConntrackFilter, error) {
	filter := &netlink.ConntrackFilter{}
	proto, ok := ProtocolNumber(f.Protocol)
	if !ok {
		return nil, fmt.Errorf("conntrack: unknown protocol %q", f.Protocol)
	}
	if err := filter.AddProtocol(proto); err != nil {
		return nil, err
	}
	if err := filter.AddPort(netlink.ConntrackOrigDstPort, f.Port); err != nil {
		return nil, err
	}
	if f.Dest.IsValid() {
		if err := filter.AddIP(netlink.ConntrackOrigDstIP, net.IP(f.Dest.AsSlice())); err != nil {
			return nil, err
		}
	}
	if f.Endpoint.IsValid() {
		if err := filter.AddIP(netlink.ConntrackReplySrcIP, net.IP(f.Endpoint.AsSlice())); err != nil {
			return nil, err
		}
	}
	return filter, nil
}

// ProtocolNumber maps a service protocol to its IP protocol number; ok is false
// for a protocol conntrack does not know.
func ProtocolNumber(p v1.Protocol) (uint8, bool) {
	switch p {
	case v1.ProtocolTCP:
		return unix.IPPROTO_TCP, true
	case v1.ProtocolUDP:
		return unix.IPPROTO_UDP, true
	case v1.ProtocolSCTP:
		return unix.IPPROTO_SCTP, true
	}
	return 0, false
}
