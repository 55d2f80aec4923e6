package ipset

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// protocolNumbers are the protocols a port entry names.
var protocolNumbers = map[string]uint8{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "sctp": unix.IPPROTO_SCTP}

// entryOfString encodes an entry of set (in any form Canonical accepts) for netlink.
func entryOfString(set Set, entry string) (*netlink.IPSetEntry, error) {
	canonical, err := Canonical(set.Type, set.Family, entry)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(canonical, ",")
	e := &netlink.IPSetEntry{}
	ips := 0
	for i, d := range set.Type.dims() {
		switch d {
		case "ip", "net":
			p, err := parseNet(parts[i])
			if err != nil {
				return nil, err
			}
			if ips == 0 {
				e.IP = net.IP(p.Addr().AsSlice())
			} else {
				e.IP2 = net.IP(p.Addr().AsSlice())
				if d == "net" {
					e.CIDR2 = uint8(p.Bits())
				}
			}
			ips++
		case "port":
			if err := setPort(e, parts[i]); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// parseNet parses a canonical address or CIDR.
func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// setPort fills the port and protocol of e (a bitmap:port entry is a bare
// number: TCP, which bitmap:port accepts and ignores).
func setPort(e *netlink.IPSetEntry, s string) error {
	proto, num, ok := strings.Cut(s, ":")
	if !ok { // bitmap:port entries are bare numbers
		proto, num = "tcp", s
	}
	n, err := strconv.ParseUint(num, 10, 16)
	if err != nil {
		return fmt.Errorf("%q is not a port", num)
	}
	port, pn := uint16(n), protocolNumbers[proto]
	e.Port, e.Protocol = &port, &pn
	return nil
}

// entryString prints a dumped entry of set in canonical form.
func entryString(set Set, e *netlink.IPSetEntry) (string, error) {
	var parts []string
	ips := 0
	for _, d := range set.Type.dims() {
		switch d {
		case "ip", "net":
			ip, cidr := e.IP, e.CIDR
			if ips > 0 {
				ip, cidr = e.IP2, e.CIDR2
			}
			ips++
			s, err := addrString(ip, cidr, d == "net")
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		case "port":
			s, err := portString(e, set.Type == BitmapPort)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
	}
	return Canonical(set.Type, set.Family, strings.Join(parts, ","))
}

// addrString prints an address, or for a net dimension the prefix it heads.
func addrString(ip net.IP, cidr uint8, isNet bool) (string, error) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return "", fmt.Errorf("entry without a valid address (%v)", ip)
	}
	a = a.Unmap()
	if !isNet || cidr == 0 {
		return a.String(), nil
	}
	return netString(netip.PrefixFrom(a, int(cidr))), nil
}

// portString prints "proto:port", or the bare port of a bitmap:port entry.
func portString(e *netlink.IPSetEntry, bitmap bool) (string, error) {
	if e.Port == nil {
		return "", fmt.Errorf("entry without a port")
	}
	if bitmap {
		return Port(*e.Port), nil
	}
	if e.Protocol == nil {
		return "", fmt.Errorf("port %d without a protocol", *e.Port)
	}
	for name, n := range protocolNumbers {
		if n == *e.Protocol {
			return portPart(name, *e.Port), nil
		}
	}
	return "", fmt.Errorf("port %d: %w (%d)", *e.Port, errNoSuchProtocol, *e.Protocol)
}
