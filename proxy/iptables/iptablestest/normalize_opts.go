package iptablestest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
