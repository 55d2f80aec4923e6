package ipset

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The entry constructors write entries in the canonical form Canonical returns and
// the sets' List gives back: addresses as netip prints them, ports as "proto:port"
// (proto in lower case), a net without its length when it is a single address.

// IP returns the hash:ip entry "ip".
func IP(ip netip.Addr) string { return ip.String() }

// IPPort returns the hash:ip,port entry "ip,proto:port".
func IPPort(ip netip.Addr, proto string, port uint16) string {
	return ip.String() + "," + portPart(proto, port)
}

// IPPortIP returns the hash:ip,port,ip entry "ip,proto:port,ip2".
func IPPortIP(ip netip.Addr, proto string, port uint16, ip2 netip.Addr) string {
	return IPPort(ip, proto, port) + "," + ip2.String()
}

// IPPortNet returns the hash:ip,port,net entry "ip,proto:port,net".
func IPPortNet(ip netip.Addr, proto string, port uint16, net netip.Prefix) string {
	return IPPort(ip, proto, port) + "," + netString(net)
}

// Port returns the bitmap:port entry "port". A bitmap:port set holds port numbers
// only: the kernel matches them against TCP, UDP and SCTP packets alike.
func Port(port uint16) string { return strconv.Itoa(int(port)) }

func portPart(proto string, port uint16) string {
	return strings.ToLower(proto) + ":" + strconv.Itoa(int(port))
}

// netString prints a prefix masked, without the length when it covers one address.
func netString(p netip.Prefix) string {
	p = p.Masked()
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

// Canonical parses entry as a member of a set of type t and family f (ignored for
// bitmap:port) and returns it in canonical form. It accepts what the ipset tool
// accepts for these types and prints in "ipset save": a port without protocol is
// TCP, a net without length is a single address.
func Canonical(t Type, f Family, entry string) (string, error) {
	dims := t.dims()
	if dims == nil {
		return "", fmt.Errorf("ipset: unsupported type %q", t)
	}
	parts := strings.Split(entry, ",")
	if len(parts) != len(dims) {
		return "", fmt.Errorf("ipset: entry %q does not fit type %s", entry, t)
	}
	out := make([]string, len(parts))
	for i, d := range dims {
		var err error
		switch d {
		case "ip":
			out[i], err = canonicalIP(parts[i], f)
		case "net":
			out[i], err = canonicalNet(parts[i], f)
		case "port":
			out[i], err = canonicalPort(parts[i], t == BitmapPort)
		}
		if err != nil {
			return "", fmt.Errorf("ipset: entry %q of type %s: %w", entry, t, err)
		}
	}
	return strings.Join(out, ","), nil
}

func canonicalIP(s string, f Family) (string, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return "", fmt.Errorf("%q is not an IP address", s)
	}
	if err := checkFamily(ip, f); err != nil {
		return "", err
	}
	return ip.String(), nil
}

func canonicalNet(s string, f Family) (string, error) {
	if !strings.Contains(s, "/") {
		return canonicalIP(s, f)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a CIDR", s)
	}
	if p.Bits() == 0 {
		return "", fmt.Errorf("%q: a /0 net is not allowed in a hash set", s)
	}
	if err := checkFamily(p.Addr(), f); err != nil {
		return "", err
	}
	return netString(p), nil
}

func checkFamily(ip netip.Addr, f Family) error {
	if (f == Inet6) != ip.Is6() || ip.Is4In6() {
		return fmt.Errorf("address %s is not of family %s", ip, f)
	}
	return nil
}

// canonicalPort parses "proto:port" or "port" (TCP). A bitmap:port entry keeps only
// the number.
func canonicalPort(s string, bitmap bool) (string, error) {
	proto, num, ok := strings.Cut(s, ":")
	if !ok {
		proto, num = "tcp", s
	}
	proto = strings.ToLower(proto)
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("unsupported protocol %q", proto)
	}
	n, err := strconv.ParseUint(num, 10, 16)
	if err != nil {
		return "", fmt.Errorf("%q is not a port", num)
	}
	if bitmap {
		return Port(uint16(n)), nil
	}
	return portPart(proto, uint16(n)), nil
}
