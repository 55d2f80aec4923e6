package iptablestest

import (
	"errors"
	"fmt"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// normFn validates an option and rewrites it to the form iptables-save prints.
type normFn func(p *ruleParser, a *pending) error

// optSpec describes one option of a known match or target.
type optSpec struct {
	flag    string   // canonical name
	aliases []string // other accepted names
	nvals   int      // number of values it takes
	norm    normFn   // nil: kept as written
	quote   bool     // printed with iptables-save's string quoting
}

// modSpec describes a known match or target.
type modSpec struct {
	name    string
	opts    []optSpec
	ordered bool // printed in opts order rather than as written
	natOnly bool // target valid only in the nat table
	notNat  bool // target refused in the nat table
	finish  func(p *ruleParser, g *group) error
}

// lookup returns the index of flag in m.opts, or -1.
func (m *modSpec) lookup(flag string) int {
	for i := range m.opts {
		if m.opts[i].flag == flag {
			return i
		}
		for _, a := range m.opts[i].aliases {
			if a == flag {
				return i
			}
		}
	}
	return -1
}

func opt(flag string, nvals int, norm normFn, aliases ...string) optSpec {
	return optSpec{flag: flag, nvals: nvals, norm: norm, aliases: aliases}
}

func portOpts() []optSpec {
	return []optSpec{
		opt("--sport", 1, normPortRange, "--source-port"),
		opt("--dport", 1, normPortRange, "--destination-port"),
	}
}

// matchSpecs are the matches whose options the Fake canonicalises. Other
// matches are accepted with their options kept as written.
var matchSpecs = map[string]*modSpec{
	"tcp": {name: "tcp", ordered: true, finish: needProto("tcp"), opts: append(portOpts(),
		opt("--tcp-option", 1, nil),
		opt("--tcp-flags", 2, normTCPFlags),
		opt("--syn", 0, normSyn))},
	"udp":   {name: "udp", ordered: true, finish: needProto("udp"), opts: portOpts()},
	"sctp":  {name: "sctp", ordered: true, finish: needProto("sctp"), opts: append(portOpts(), opt("--chunk-types", 2, nil))},
	"icmp":  {name: "icmp", ordered: true, opts: []optSpec{opt("--icmp-type", 1, nil)}},
	"icmp6": {name: "icmp6", ordered: true, opts: []optSpec{opt("--icmpv6-type", 1, nil)}},
	"multiport": {name: "multiport", ordered: true, finish: needPortProto, opts: []optSpec{
		opt("--sports", 1, normPortList, "--source-ports"),
		opt("--dports", 1, normPortList, "--destination-ports"),
		opt("--ports", 1, normPortList)}},
	"comment": {name: "comment", ordered: true, finish: needOpt("--comment"),
		opts: []optSpec{{flag: "--comment", nvals: 1, norm: normComment, quote: true}}},
	"conntrack": {name: "conntrack", ordered: true, opts: []optSpec{
		opt("--ctstate", 1, normCTState),
		opt("--ctproto", 1, nil),
		opt("--ctorigsrc", 1, nil), opt("--ctorigdst", 1, nil),
		opt("--ctreplsrc", 1, nil), opt("--ctrepldst", 1, nil),
		opt("--ctorigsrcport", 1, nil), opt("--ctorigdstport", 1, nil),
		opt("--ctreplsrcport", 1, nil), opt("--ctrepldstport", 1, nil),
		opt("--ctstatus", 1, nil), opt("--ctexpire", 1, nil), opt("--ctdir", 1, nil)}},
	"state":    {name: "state", ordered: true, finish: needOpt("--state"), opts: []optSpec{opt("--state", 1, normState)}},
	"mark":     {name: "mark", ordered: true, finish: needOpt("--mark"), opts: []optSpec{opt("--mark", 1, normMark)}},
	"connmark": {name: "connmark", ordered: true, finish: needOpt("--mark"), opts: []optSpec{opt("--mark", 1, normMark)}},
	"addrtype": {name: "addrtype", ordered: true, opts: []optSpec{
		opt("--src-type", 1, normAddrType),
		opt("--dst-type", 1, normAddrType),
		opt("--limit-iface-in", 0, nil),
		opt("--limit-iface-out", 0, nil)}},
	"set": {name: "set", ordered: true, finish: needOpt("--match-set"), opts: []optSpec{
		opt("--match-set", 2, normMatchSet),
		opt("--return-nomatch", 0, nil)}},
	"statistic": {name: "statistic", ordered: true, finish: finishStatistic, opts: []optSpec{
		opt("--mode", 1, normStatMode),
		opt("--probability", 1, normProbability),
		opt("--every", 1, normPositive),
		opt("--packet", 1, normCount)}},
	"recent": {name: "recent", ordered: true, finish: finishRecent, opts: []optSpec{
		opt("--set", 0, nil), opt("--rcheck", 0, nil), opt("--update", 0, nil), opt("--remove", 0, nil),
		opt("--seconds", 1, normPositive),
		opt("--reap", 0, nil),
		opt("--hitcount", 1, normPositive),
		opt("--rttl", 0, nil),
		opt("--name", 1, normRecentName),
		opt("--mask", 1, normMask),
		opt("--rsource", 0, nil), opt("--rdest", 0, nil)}},
}

// protoMatch returns the match -p proto loads implicitly when one of its
// options follows, or "".
func protoMatch(proto string) string {
	switch proto {
	case "tcp", "udp", "sctp", "icmp":
		return proto
	case "ipv6-icmp":
		return "icmp6"
	}
	return ""
}

func markOpt(flag string) optSpec { return opt(flag, 1, normMarkTarget) }

// targetSpecs are the built-in and extension targets the Fake knows. Any
// other target name must be a user chain of the same table.
var targetSpecs = map[string]*modSpec{
	"ACCEPT": {name: "ACCEPT"},
	"DROP":   {name: "DROP", notNat: true},
	"RETURN": {name: "RETURN"},
	"QUEUE":  {name: "QUEUE"},
	"REJECT": {name: "REJECT", ordered: true, notNat: true, finish: finishReject,
		opts: []optSpec{opt("--reject-with", 1, nil)}},
	"DNAT": {name: "DNAT", ordered: true, natOnly: true, finish: needNATPortProto("--to-destination", true), opts: []optSpec{
		opt("--to-destination", 1, normNATAddr, "--to"),
		opt("--random", 0, nil),
		opt("--persistent", 0, nil)}},
	"SNAT": {name: "SNAT", ordered: true, natOnly: true, finish: needNATPortProto("--to-source", true), opts: []optSpec{
		opt("--to-source", 1, normNATAddr, "--to"),
		opt("--random", 0, nil),
		opt("--random-fully", 0, nil),
		opt("--persistent", 0, nil)}},
	"MASQUERADE": {name: "MASQUERADE", ordered: true, natOnly: true, finish: needNATPortProto("--to-ports", false), opts: []optSpec{
		opt("--to-ports", 1, normToPorts),
		opt("--random", 0, nil),
		opt("--random-fully", 0, nil)}},
	"REDIRECT": {name: "REDIRECT", ordered: true, natOnly: true, finish: needNATPortProto("--to-ports", false), opts: []optSpec{
		opt("--to-ports", 1, normToPorts),
		opt("--random", 0, nil)}},
	"MARK": {name: "MARK", ordered: true, finish: needOpt("--set-xmark"), opts: []optSpec{
		markOpt("--set-xmark"), markOpt("--set-mark"), markOpt("--or-mark"), markOpt("--and-mark"), markOpt("--xor-mark")}},
	"CONNMARK": {name: "CONNMARK", opts: []optSpec{
		markOpt("--set-xmark"), markOpt("--set-mark"), markOpt("--or-mark"), markOpt("--and-mark"), markOpt("--xor-mark"),
		opt("--save-mark", 0, nil), opt("--restore-mark", 0, nil),
		opt("--nfmask", 1, nil), opt("--ctmask", 1, nil), opt("--mask", 1, nil)}},
	"LOG": {name: "LOG", ordered: true, opts: []optSpec{
		{flag: "--log-prefix", nvals: 1, quote: true},
		opt("--log-level", 1, nil),
		opt("--log-tcp-sequence", 0, nil),
		opt("--log-tcp-options", 0, nil),
		opt("--log-ip-options", 0, nil),
		opt("--log-uid", 0, nil),
		opt("--log-macdecode", 0, nil)}},
}

// chainTarget stands for a jump to a user chain: it takes no options.
var chainTarget = &modSpec{name: "chain"}

// isBuiltinTarget reports whether name is a target the Fake knows rather
// than a user chain.
func isBuiltinTarget(name string) bool { return targetSpecs[name] != nil }

func needOpt(flag string) func(*ruleParser, *group) error {
	return func(_ *ruleParser, g *group) error {
		if g.find(flag) < 0 {
			return fmt.Errorf("%s: %s is required", g.name, flag)
		}
		return nil
	}
}

func needProto(proto string) func(*ruleParser, *group) error {
	return func(p *ruleParser, g *group) error {
		if p.proto() != proto {
			return fmt.Errorf("%s match: only valid with -p %s", g.name, proto)
		}
		return nil
	}
}

func needPortProto(p *ruleParser, g *group) error {
	switch p.proto() {
	case "tcp", "udp", "sctp", "dccp", "udplite":
		return nil
	}
	return fmt.Errorf("%s: needs -p tcp, udp, sctp, dccp or udplite", g.name)
}

// needNATPortProto checks that a NAT target naming ports has a protocol
// with ports, as the kernel does.
func needNATPortProto(flag string, inAddr bool) func(*ruleParser, *group) error {
	return func(p *ruleParser, g *group) error {
		i := g.find(flag)
		if i < 0 {
			if inAddr {
				return fmt.Errorf("%s: %s is required", g.name, flag)
			}
			return nil
		}
		hasPort := !inAddr
		if inAddr {
			_, _, _, hasPort, _ = parseNATAddr(g.args[i].vals[0])
		}
		switch p.proto() {
		case "tcp", "udp", "sctp", "dccp":
		default:
			if hasPort {
				return errors.New("Need TCP, UDP, SCTP or DCCP with port specification")
			}
		}
		return nil
	}
}

func finishReject(p *ruleParser, g *group) error {
	if i := g.find("--reject-with"); i >= 0 && g.args[i].vals[0] == "tcp-reset" && p.proto() != "tcp" {
		return errors.New("REJECT --reject-with tcp-reset needs -p tcp")
	}
	if g.find("--reject-with") < 0 {
		with := "icmp-port-unreachable"
		if p.family == iptables.IPv6 {
			with = "icmp6-port-unreachable"
		}
		g.add(pending{flag: "--reject-with", vals: [2]string{with}, n: 1})
	}
	return nil
}

func finishStatistic(_ *ruleParser, g *group) error {
	m := g.find("--mode")
	if m < 0 {
		return errors.New("statistic: --mode is required")
	}
	random := g.args[m].vals[0] == "random"
	if random && g.find("--probability") < 0 {
		return errors.New("statistic: --mode random needs --probability")
	}
	if !random && g.find("--every") < 0 {
		return errors.New("statistic: --mode nth needs --every")
	}
	return nil
}

func finishRecent(p *ruleParser, g *group) error {
	modes := 0
	for _, f := range []string{"--set", "--rcheck", "--update", "--remove"} {
		if g.find(f) >= 0 {
			modes++
		}
	}
	if modes != 1 {
		return errors.New("recent: need exactly one of --set, --rcheck, --update or --remove")
	}
	if g.find("--name") < 0 {
		g.add(pending{flag: "--name", vals: [2]string{"DEFAULT"}, n: 1})
	}
	if g.find("--mask") < 0 {
		mask := "255.255.255.255"
		if p.family == iptables.IPv6 {
			mask = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
		}
		g.add(pending{flag: "--mask", vals: [2]string{mask}, n: 1})
	}
	if g.find("--rsource") < 0 && g.find("--rdest") < 0 {
		g.add(pending{flag: "--rsource"})
	}
	return nil
}
