package iptablestest

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// setVal stores b as value k of a, allocating only when it differs.
func setVal(a *pending, k int, b []byte) {
	if string(b) != a.vals[k] {
		a.vals[k] = string(b)
	}
}

// parsePrefix reads "addr" or "addr/len" of the parser's family.
func (p *ruleParser) parsePrefix(v string) (netip.Prefix, error) {
	var pfx netip.Prefix
	if strings.IndexByte(v, '/') >= 0 {
		var err error
		if pfx, err = netip.ParsePrefix(v); err != nil {
			return pfx, fmt.Errorf("invalid address %q", v)
		}
	} else {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return pfx, fmt.Errorf("invalid address %q", v)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if err := p.checkFamily(pfx.Addr(), v); err != nil {
		return pfx, err
	}
	return pfx, nil
}

func (p *ruleParser) checkFamily(a netip.Addr, v string) error {
	if a.Is4() != (p.family == iptables.IPv4) {
		return fmt.Errorf("address %q is not %v", v, p.family)
	}
	return nil
}

// normAddr canonicalises -s and -d: masked prefix with its length.
func normAddr(p *ruleParser, a *pending) error {
	pfx, err := p.parsePrefix(a.vals[0])
	if err != nil {
		return err
	}
	p.scratch = pfx.Masked().AppendTo(p.scratch[:0])
	setVal(a, 0, p.scratch)
	return nil
}

// normMask canonicalises recent's --mask as a plain address.
func normMask(p *ruleParser, a *pending) error {
	m, err := netip.ParseAddr(a.vals[0])
	if err != nil {
		return fmt.Errorf("invalid mask %q", a.vals[0])
	}
	if err := p.checkFamily(m, a.vals[0]); err != nil {
		return err
	}
	p.scratch = m.AppendTo(p.scratch[:0])
	setVal(a, 0, p.scratch)
	return nil
}

func normIface(_ *ruleParser, a *pending) error {
	v := a.vals[0]
	if v == "" || len(v) > 15 || strings.ContainsAny(v, "/ \t") {
		return fmt.Errorf("invalid interface name %q", v)
	}
	return nil
}

// protoName returns the name iptables-save prints for a protocol given
// by name or number, or "".
func protoName(v string) string {
	switch v {
	case "tcp", "udp", "sctp", "icmp", "ipv6-icmp", "all", "udplite", "dccp", "esp", "ah", "gre", "mh":
		return v
	case "0":
		return "all"
	case "1":
		return "icmp"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "33":
		return "dccp"
	case "58", "icmpv6":
		return "ipv6-icmp"
	case "132":
		return "sctp"
	case "136":
		return "udplite"
	}
	if l := strings.ToLower(v); l != v {
		return protoName(l)
	}
	return ""
}

func normProto(_ *ruleParser, a *pending) error {
	v := protoName(a.vals[0])
	if v == "" {
		return fmt.Errorf("unknown protocol %q", a.vals[0])
	}
	if v != a.vals[0] {
		a.vals[0] = v
	}
	return nil
}

// parsePort reads a port number.
func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return uint16(n), nil
}

// parsePortRange reads "N", "N:M", ":M" or "N:" (sep is ':' or '-').
func parsePortRange(s string, sep byte) (lo, hi uint16, err error) {
	i := strings.IndexByte(s, sep)
	if i < 0 {
		lo, err = parsePort(s)
		return lo, lo, err
	}
	lo, hi = 0, 65535
	if i > 0 {
		if lo, err = parsePort(s[:i]); err != nil {
			return
		}
	}
	if i+1 < len(s) {
		if hi, err = parsePort(s[i+1:]); err != nil {
			return
		}
	}
	if lo > hi {
		err = fmt.Errorf("invalid port range %q", s)
	}
	return
}

func appendPortRange(b []byte, lo, hi uint16, sep byte) []byte {
	b = strconv.AppendUint(b, uint64(lo), 10)
	if hi != lo {
		b = append(b, sep)
		b = strconv.AppendUint(b, uint64(hi), 10)
	}
	return b
}

func normPortRange(p *ruleParser, a *pending) error {
	lo, hi, err := parsePortRange(a.vals[0], ':')
	if err != nil {
		return err
	}
	p.scratch = appendPortRange(p.scratch[:0], lo, hi, ':')
	setVal(a, 0, p.scratch)
	return nil
}

// normToPorts canonicalises --to-ports of MASQUERADE and REDIRECT.
func normToPorts(p *ruleParser, a *pending) error {
	v := a.vals[0]
	sep := byte('-')
	if strings.IndexByte(v, ':') >= 0 {
		sep = ':'
	}
	lo, hi, err := parsePortRange(v, sep)
	if err != nil {
		return err
	}
	p.scratch = appendPortRange(p.scratch[:0], lo, hi, '-')
	setVal(a, 0, p.scratch)
	return nil
}

func normPortList(p *ruleParser, a *pending) error {
	parts := strings.Split(a.vals[0], ",")
	if len(parts) > 15 {
		return errors.New("multiport: too many ports")
	}
	p.scratch = p.scratch[:0]
	for i, s := range parts {
		lo, hi, err := parsePortRange(s, ':')
		if err != nil {
			return err
		}
		if i > 0 {
			p.scratch = append(p.scratch, ',')
		}
		p.scratch = appendPortRange(p.scratch, lo, hi, ':')
	}
	setVal(a, 0, p.scratch)
	return nil
}

// parseNATAddr reads the address of DNAT's --to-destination or SNAT's
// --to-source: "ip", "ip:port", "ip:lo-hi", "[ip6]:port" or "ip6". An
// address range "ip-ip" is accepted and returned as an invalid addr.
func parseNATAddr(v string) (addr netip.Addr, lo, hi uint16, hasPort bool, err error) {
	host, ports := v, ""
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return addr, 0, 0, false, fmt.Errorf("bad address %q", v)
		}
		host, ports = v[1:end], v[end+1:]
		if ports != "" {
			if ports[0] != ':' {
				return addr, 0, 0, false, fmt.Errorf("bad address %q", v)
			}
			ports = ports[1:]
			hasPort = true
		}
	} else if strings.Count(v, ":") == 1 {
		host, ports, hasPort = v[:strings.IndexByte(v, ':')], v[strings.IndexByte(v, ':')+1:], true
	}
	if hasPort {
		if lo, hi, err = parsePortRange(ports, '-'); err != nil {
			return addr, 0, 0, false, err
		}
	}
	if addr, err = netip.ParseAddr(host); err != nil {
		if f, l, ok := strings.Cut(host, "-"); ok {
			_, e1 := netip.ParseAddr(f)
			_, e2 := netip.ParseAddr(l)
			if e1 == nil && e2 == nil {
				return netip.Addr{}, lo, hi, hasPort, nil
			}
		}
		return addr, 0, 0, false, fmt.Errorf("bad address %q", v)
	}
	return addr, lo, hi, hasPort, nil
}

func normNATAddr(p *ruleParser, a *pending) error {
	addr, lo, hi, hasPort, err := parseNATAddr(a.vals[0])
	if err != nil {
		return err
	}
	if !addr.IsValid() { // an address range, kept as written
		return nil
	}
	if err := p.checkFamily(addr, a.vals[0]); err != nil {
		return err
	}
	b := p.scratch[:0]
	if addr.Is6() && hasPort {
		b = append(b, '[')
	}
	b = addr.AppendTo(b)
	if addr.Is6() && hasPort {
		b = append(b, ']')
	}
	if hasPort {
		b = appendPortRange(append(b, ':'), lo, hi, '-')
	}
	p.scratch = b
	setVal(a, 0, p.scratch)
	return nil
}
