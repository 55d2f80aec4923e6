package iptablestest

import (
	"errors"
	"fmt"
	"math"
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

var protoNumbers = map[string]string{"0": "all", "1": "icmp", "6": "tcp", "17": "udp", "33": "dccp", "58": "ipv6-icmp", "132": "sctp", "136": "udplite"}

var protoNames = map[string]bool{
	"all": true, "tcp": true, "udp": true, "sctp": true, "icmp": true, "ipv6-icmp": true,
	"udplite": true, "dccp": true, "esp": true, "ah": true, "gre": true, "mh": true,
}

func normProto(_ *ruleParser, a *pending) error {
	v := strings.ToLower(a.vals[0])
	if n, ok := protoNumbers[v]; ok {
		v = n
	}
	if v == "icmpv6" {
		v = "ipv6-icmp"
	}
	if !protoNames[v] {
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

func normTCPFlags(_ *ruleParser, a *pending) error {
	for k := 0; k < 2; k++ {
		a.vals[k] = strings.ToUpper(a.vals[k])
	}
	return nil
}

func normSyn(_ *ruleParser, a *pending) error {
	a.flag, a.n = "--tcp-flags", 2
	a.vals = [2]string{"FIN,SYN,RST,ACK", "SYN"}
	return nil
}

func normComment(_ *ruleParser, a *pending) error {
	if len(a.vals[0]) > 255 {
		return errors.New("COMMENT must be shorter than 256 characters")
	}
	return nil
}

// ctStates are the conntrack states in the order iptables-save prints them.
var ctStates = []string{"INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"}

func normStates(p *ruleParser, a *pending, allowed []string) error {
	var seen uint
	for _, s := range strings.Split(a.vals[0], ",") {
		i := indexFold(allowed, s)
		if i < 0 {
			return fmt.Errorf("bad conntrack state %q", s)
		}
		seen |= 1 << i
	}
	p.scratch = p.scratch[:0]
	for i, s := range allowed {
		if seen&(1<<i) != 0 {
			if len(p.scratch) > 0 {
				p.scratch = append(p.scratch, ',')
			}
			p.scratch = append(p.scratch, s...)
		}
	}
	setVal(a, 0, p.scratch)
	return nil
}

func normCTState(p *ruleParser, a *pending) error { return normStates(p, a, ctStates) }
func normState(p *ruleParser, a *pending) error   { return normStates(p, a, ctStates[:5]) }

func indexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

// parseMark reads "value" or "value/mask"; the mask defaults to all ones.
func parseMark(s string) (v, m uint32, err error) {
	vs, ms, hasMask := strings.Cut(s, "/")
	m = math.MaxUint32
	n, err := strconv.ParseUint(vs, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("bad mark %q", s)
	}
	if hasMask {
		k, err := strconv.ParseUint(ms, 0, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("bad mark %q", s)
		}
		m = uint32(k)
	}
	return uint32(n), m, nil
}

func appendHex(b []byte, v uint32) []byte {
	return strconv.AppendUint(append(b, '0', 'x'), uint64(v), 16)
}

// normMark canonicalises the mark match: "0x4000" or "0x4000/0x4000".
func normMark(p *ruleParser, a *pending) error {
	v, m, err := parseMark(a.vals[0])
	if err != nil {
		return err
	}
	p.scratch = appendHex(p.scratch[:0], v)
	if m != math.MaxUint32 {
		p.scratch = appendHex(append(p.scratch, '/'), m)
	}
	setVal(a, 0, p.scratch)
	return nil
}

// normMarkTarget turns every MARK form into --set-xmark value/mask, as
// iptables-save prints them.
func normMarkTarget(p *ruleParser, a *pending) error {
	v, m, err := parseMark(a.vals[0])
	if err != nil {
		return err
	}
	hasMask := strings.IndexByte(a.vals[0], '/') >= 0
	switch a.flag {
	case "--set-xmark", "--set-mark":
	case "--or-mark", "--and-mark", "--xor-mark":
		if hasMask {
			return fmt.Errorf("%s takes no mask", a.flag)
		}
		switch a.flag {
		case "--or-mark":
			m = v
		case "--and-mark":
			v, m = 0, ^v
		case "--xor-mark":
			m = 0
		}
	}
	a.flag = "--set-xmark"
	p.scratch = appendHex(p.scratch[:0], v)
	p.scratch = appendHex(append(p.scratch, '/'), m)
	setVal(a, 0, p.scratch)
	return nil
}

var addrTypes = []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
	"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"}

func normAddrType(_ *ruleParser, a *pending) error {
	for _, t := range strings.Split(a.vals[0], ",") {
		if indexFold(addrTypes, t) < 0 {
			return fmt.Errorf("addrtype: unknown type %q", t)
		}
	}
	a.vals[0] = strings.ToUpper(a.vals[0])
	return nil
}

func normMatchSet(_ *ruleParser, a *pending) error {
	if name := a.vals[0]; name == "" || len(name) > 31 {
		return fmt.Errorf("invalid set name %q", name)
	}
	dirs := strings.Split(a.vals[1], ",")
	if len(dirs) > 6 {
		return fmt.Errorf("set: too many flags in %q", a.vals[1])
	}
	for _, d := range dirs {
		if d != "src" && d != "dst" {
			return fmt.Errorf("set: bad flag %q", a.vals[1])
		}
	}
	return nil
}

func normStatMode(_ *ruleParser, a *pending) error {
	if a.vals[0] != "random" && a.vals[0] != "nth" {
		return fmt.Errorf("statistic: bad mode %q", a.vals[0])
	}
	return nil
}

// normProbability stores the probability as the kernel does, a 31-bit
// fraction, and prints it back with 11 decimals as iptables-save does.
func normProbability(p *ruleParser, a *pending) error {
	f, err := strconv.ParseFloat(a.vals[0], 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("statistic: bad probability %q", a.vals[0])
	}
	q := math.Round(f * (1 << 31))
	p.scratch = strconv.AppendFloat(p.scratch[:0], q/(1<<31), 'f', 11, 64)
	setVal(a, 0, p.scratch)
	return nil
}

func normCount(_ *ruleParser, a *pending) error {
	if _, err := strconv.ParseUint(a.vals[0], 10, 32); err != nil {
		return fmt.Errorf("%s: bad number %q", a.flag, a.vals[0])
	}
	return nil
}

func normPositive(_ *ruleParser, a *pending) error {
	if n, err := strconv.ParseUint(a.vals[0], 10, 32); err != nil || n == 0 {
		return fmt.Errorf("%s: bad number %q", a.flag, a.vals[0])
	}
	return nil
}

func normRecentName(_ *ruleParser, a *pending) error {
	if v := a.vals[0]; v == "" || len(v) > 200 {
		return fmt.Errorf("recent: bad name %q", v)
	}
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
