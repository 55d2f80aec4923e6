package iptablestest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// tri is the result of a match on one path: it may also go either way.
type tri uint8

const (
	no tri = iota
	yes
	maybe
)

func (m tri) not() tri {
	switch m {
	case no:
		return yes
	case yes:
		return no
	}
	return maybe
}

// traceModules are the matches the Tracer understands.
var traceModules = map[string]bool{
	"tcp": true, "udp": true, "sctp": true, "multiport": true, "comment": true,
	"conntrack": true, "state": true, "mark": true, "addrtype": true, "set": true,
	"statistic": true, "recent": true,
}

// matchRule evaluates every match of r against fl.
func (tr *trace) matchRule(r *Rule, fl *flow) (tri, error) {
	res := yes
	matches := r.Matches()
	for k := range matches {
		a := &matches[k]
		var m tri
		var err error
		switch {
		case a.Flag == "-m" && a.Module == "":
			if !traceModules[a.Value] {
				return no, fmt.Errorf("the tracer does not understand match %q", a.Value)
			}
			continue
		case a.Module == "":
			m, err = tr.matchGeneric(a, fl)
		default:
			m, err = tr.matchOption(a, fl)
		}
		if err != nil {
			return no, err
		}
		if a.Neg {
			m = m.not()
		}
		switch m {
		case no:
			return no, nil
		case maybe:
			res = maybe
		}
	}
	return res, nil
}

func is(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (tr *trace) matchGeneric(a *Arg, fl *flow) (tri, error) {
	switch a.Flag {
	case "-s", "-d":
		pfx, err := netip.ParsePrefix(a.Value)
		if err != nil {
			return no, err
		}
		if a.Flag == "-s" {
			return is(pfx.Contains(fl.src)), nil
		}
		return is(pfx.Contains(fl.dst)), nil
	case "-i":
		return is(ifaceMatches(a.Value, fl.in)), nil
	case "-o":
		return is(ifaceMatches(a.Value, fl.out)), nil
	case "-p":
		return is(a.Value == fl.proto), nil
	}
	return no, fmt.Errorf("the tracer does not understand %s", a.Flag)
}

// ifaceMatches matches an interface name against a pattern ending in '+'
// for a prefix. A packet without that interface matches nothing.
func ifaceMatches(pattern, name string) bool {
	if name == "" {
		return false
	}
	if p, ok := strings.CutSuffix(pattern, "+"); ok {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

func (tr *trace) matchOption(a *Arg, fl *flow) (tri, error) {
	switch a.Module {
	case "comment":
		return yes, nil
	case "tcp", "udp", "sctp":
		return matchPorts(a, fl)
	case "multiport":
		return matchPortList(a, fl)
	case "conntrack", "state":
		if a.Flag == "--ctstate" || a.Flag == "--state" {
			return is(ctStateMatches(a.Value, fl)), nil
		}
	case "mark":
		v, m, err := parseMark(a.Value)
		return is(err == nil && fl.mark&m == v), err
	case "addrtype":
		return tr.matchAddrType(a, fl)
	case "set":
		return tr.matchSet(a, fl)
	case "statistic":
		return matchStatistic(a)
	case "recent":
		switch a.Flag {
		case "--rcheck", "--update", "--remove":
			return maybe, nil // depends on earlier packets: both ways
		}
		return yes, nil
	}
	return no, fmt.Errorf("the tracer does not understand %s of match %s", a.Flag, a.Module)
}

func matchPorts(a *Arg, fl *flow) (tri, error) {
	switch a.Flag {
	case "--sport", "--dport":
		lo, hi, err := parsePortRange(a.Value, ':')
		if err != nil {
			return no, err
		}
		port := fl.dport
		if a.Flag == "--sport" {
			port = fl.sport
		}
		return is(port >= lo && port <= hi), nil
	case "--tcp-flags":
		// The traced packet opens a connection: only SYN is set.
		return is(tcpFlagsMatch(a.Value, a.Value2)), nil
	}
	return no, fmt.Errorf("the tracer does not understand %s of match %s", a.Flag, a.Module)
}

func tcpFlagsMatch(mask, set string) bool {
	for _, f := range strings.Split(mask, ",") {
		want := f == "ALL" || strings.Contains(","+set+",", ","+f+",") || set == "ALL"
		if want != (f == "SYN" || f == "ALL") {
			return false
		}
	}
	return true
}

func matchPortList(a *Arg, fl *flow) (tri, error) {
	for _, s := range strings.Split(a.Value, ",") {
		lo, hi, err := parsePortRange(s, ':')
		if err != nil {
			return no, err
		}
		in := func(p uint16) bool { return p >= lo && p <= hi }
		switch a.Flag {
		case "--dports":
			if in(fl.dport) {
				return yes, nil
			}
		case "--sports":
			if in(fl.sport) {
				return yes, nil
			}
		default:
			if in(fl.dport) || in(fl.sport) {
				return yes, nil
			}
		}
	}
	return no, nil
}

func ctStateMatches(states string, fl *flow) bool {
	for _, s := range strings.Split(states, ",") {
		switch {
		case s == fl.ctstate,
			s == "DNAT" && (fl.dnat || fl.redir),
			s == "SNAT" && fl.masq:
			return true
		}
	}
	return false
}

func (tr *trace) matchAddrType(a *Arg, fl *flow) (tri, error) {
	if a.Flag != "--src-type" && a.Flag != "--dst-type" {
		return no, fmt.Errorf("the tracer does not understand %s of match addrtype", a.Flag)
	}
	if a.Value != "LOCAL" {
		return no, fmt.Errorf("the tracer only understands addrtype LOCAL, not %s", a.Value)
	}
	addr := fl.dst
	if a.Flag == "--src-type" {
		addr = fl.src
	}
	return is(tr.isLocal(addr)), nil
}

func (tr *trace) matchSet(a *Arg, fl *flow) (tri, error) {
	if a.Flag != "--match-set" {
		return no, fmt.Errorf("the tracer does not understand %s of match set", a.Flag)
	}
	if tr.node.IPSets == nil {
		return no, fmt.Errorf("set %s: the tracer was given no ipsets", a.Value)
	}
	s, ok := tr.node.IPSets.IPSet(a.Value)
	if !ok {
		return no, fmt.Errorf("set %s does not exist", a.Value)
	}
	hit, err := s.contains(a.Value2, fl)
	return is(hit), err
}

func matchStatistic(a *Arg) (tri, error) {
	switch a.Flag {
	case "--mode":
		if a.Value == "nth" {
			return maybe, nil
		}
		return yes, nil
	case "--probability":
		p, err := strconv.ParseFloat(a.Value, 64)
		switch {
		case err != nil:
			return no, err
		case p <= 0:
			return no, nil
		case p >= 1:
			return yes, nil
		}
		return maybe, nil
	case "--every", "--packet":
		return yes, nil
	}
	return no, fmt.Errorf("the tracer does not understand %s of match statistic", a.Flag)
}

// target applies r's target to fl. terminal is set when the walk leaves the
// chain, with ex saying how.
func (tr *trace) target(r *Rule, fl *flow) (ex exit, terminal bool, err error) {
	switch r.Target {
	case "":
		return 0, false, nil
	case "ACCEPT":
		return exitAccept, true, nil
	case "DROP":
		return exitDrop, true, nil
	case "REJECT":
		return exitReject, true, nil
	case "RETURN":
		return exitReturn, true, nil
	case "LOG":
		return 0, false, nil
	case "MARK":
		a, _ := r.Get("MARK", "--set-xmark")
		v, m, err := parseMark(a.Value)
		if err != nil {
			return 0, false, err
		}
		fl.mark = fl.mark&^m ^ v
		return 0, false, nil
	case "MASQUERADE", "SNAT":
		fl.masq = true
		return exitAccept, true, nil
	case "DNAT":
		return exitAccept, true, tr.dnat(r, fl)
	case "REDIRECT":
		return exitAccept, true, tr.redirect(r, fl)
	}
	return 0, false, fmt.Errorf("the tracer does not understand target %s", r.Target)
}

func (tr *trace) dnat(r *Rule, fl *flow) error {
	a, _ := r.Get("DNAT", "--to-destination")
	addr, lo, _, hasPort, err := parseNATAddr(a.Value)
	if err != nil {
		return err
	}
	if !addr.IsValid() {
		return fmt.Errorf("the tracer does not understand address ranges (%s)", a.Value)
	}
	fl.dst, fl.dnat = addr, true
	if hasPort {
		fl.dport = lo
	}
	return nil
}

// redirect sends the packet to a port on the node: loopback for a local
// packet, else the destination if local, else the node's first address.
func (tr *trace) redirect(r *Rule, fl *flow) error {
	if a, ok := r.Get("REDIRECT", "--to-ports"); ok {
		lo, _, err := parsePortRange(a.Value, '-')
		if err != nil {
			return err
		}
		fl.dport = lo
	}
	switch {
	case fl.in == "" && fl.dst.Is4():
		fl.dst = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case fl.in == "":
		fl.dst = netip.IPv6Loopback()
	case !tr.isLocal(fl.dst):
		for _, l := range tr.node.LocalAddrs {
			if l.Is4() == fl.dst.Is4() {
				fl.dst = l
				break
			}
		}
	}
	fl.redir = true
	return nil
}
