package packetflow

import (
	"fmt"
	"net/netip"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Addresses writes a scenario once for both families: addresses are given in IPv4
// form and mapped, for IPv6, octet by octet onto the last four groups of fd00::/64
// ("10.0.1.1" becomes "fd00::10:0:1:1"; the octets' decimal digits are read as hex).
type Addresses struct {
	Family v1.IPFamily
}

// IP returns the address v4 in the family.
func (a Addresses) IP(v4 string) netip.Addr {
	ip := netip.MustParseAddr(v4)
	if a.Family != v1.IPv6Protocol {
		return ip
	}
	b := ip.As4()
	return netip.MustParseAddr(fmt.Sprintf("fd00::%d:%d:%d:%d", b[0], b[1], b[2], b[3]))
}

// String returns IP(v4) as a string.
func (a Addresses) String(v4 string) string { return a.IP(v4).String() }

// Prefix returns the prefix v4 in the family; its length must be a multiple of 8.
func (a Addresses) Prefix(v4 string) netip.Prefix {
	p := netip.MustParsePrefix(v4)
	if a.Family != v1.IPv6Protocol {
		return p
	}
	if p.Bits()%8 != 0 {
		panic("packetflow: prefix " + v4 + " is not on an octet boundary")
	}
	return netip.PrefixFrom(a.IP(p.Addr().String()), 64+2*p.Bits()).Masked()
}

// AddrPort returns "ip:port" in the family.
func (a Addresses) AddrPort(v4port string) netip.AddrPort {
	host, port, ok := strings.Cut(v4port, ":")
	if !ok {
		panic("packetflow: " + v4port + " has no port")
	}
	return netip.AddrPortFrom(a.IP(host), netip.MustParseAddrPort("0.0.0.0:"+port).Port())
}

// AddrPorts maps several "ip:port".
func (a Addresses) AddrPorts(v4ports ...string) []netip.AddrPort {
	out := make([]netip.AddrPort, len(v4ports))
	for i, s := range v4ports {
		out[i] = a.AddrPort(s)
	}
	return out
}
