package iptablestest

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// Tracer walks packets through a Fake's nat and filter tables. A match that
// can go either way (statistic, recent) is explored both ways, so a trace
// returns every reachable outcome.
type Tracer struct {
	f    *Fake
	node Node
}

// NewTracer returns a Tracer over f's current and future state.
func NewTracer(f *Fake, node Node) *Tracer { return &Tracer{f: f, node: node} }

// maxPaths bounds the branches one trace may explore.
const maxPaths = 1 << 16

// flow is a packet on one explored path.
type flow struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        string
	in, out      string
	mark         uint32
	ctstate      string
	dnat, redir  bool
	masq         bool
}

// exit says how a walk left a chain.
type exit uint8

const (
	exitReturn exit = iota // fell off the end or RETURN
	exitAccept
	exitDrop
	exitReject
)

type result struct {
	fl flow
	ex exit
}

// trace is the state of one Trace call.
type trace struct {
	f     *Fake
	node  Node
	paths int
}

// Trace returns every outcome the packet can reach. Hooks walked: for a
// local packet nat OUTPUT, filter OUTPUT, nat POSTROUTING, then filter
// INPUT when the destination is local; for an arriving one nat PREROUTING,
// then filter INPUT for a local destination or filter FORWARD and nat
// POSTROUTING otherwise. Tables the Fake never used are passed through. A
// match or target the Tracer does not understand is an error.
func (t *Tracer) Trace(p Packet) (Outcomes, error) {
	if err := t.check(p); err != nil {
		return nil, err
	}
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	tr := &trace{f: t.f, node: t.node}
	if tr.node.IPSets == nil {
		tr.node.IPSets = t.f.sets
	}
	fl := flow{src: p.Source, dst: p.Dest, sport: p.SourcePort, dport: p.DestPort, proto: p.Protocol,
		in: p.InIface, mark: p.Mark, ctstate: p.CTState}
	if fl.ctstate == "" {
		fl.ctstate = "NEW"
	}
	switch {
	case p.Local:
		fl.in = ""
	case fl.in == "":
		fl.in = "eth0"
	}
	flows, done, err := tr.hooks(p, fl)
	if err != nil {
		return nil, err
	}
	for _, fl := range flows {
		done = append(done, fl.outcome())
	}
	return dedup(done), nil
}

func (t *Tracer) check(p Packet) error {
	switch {
	case !p.Source.IsValid() || !p.Dest.IsValid():
		return fmt.Errorf("packet needs a source and a destination")
	case p.Source.Is4() != p.Dest.Is4():
		return fmt.Errorf("packet mixes address families")
	case p.Dest.Is4() != (t.f.family == iptables.IPv4):
		return fmt.Errorf("packet is not %v", t.f.family)
	}
	switch p.Protocol {
	case "tcp", "udp", "sctp":
		return nil
	}
	return fmt.Errorf("unsupported protocol %q", p.Protocol)
}

// stage is one hook on a packet's path. when decides whether a flow
// goes through it (and may set the flow's interfaces); flows skipping a
// stage carry on to the next.
type stage struct {
	table iptables.Table
	chain string
	when  func(tr *trace, p *Packet, fl *flow) bool
}

var localPath = []stage{
	{iptables.TableNAT, iptables.ChainOutput, (*trace).leaving},
	{iptables.TableFilter, iptables.ChainOutput, (*trace).leaving},
	{iptables.TableNAT, iptables.ChainPostrouting, (*trace).leaving},
	{iptables.TableFilter, iptables.ChainInput, (*trace).loopedBack},
}

var arrivingPath = []stage{
	{iptables.TableNAT, iptables.ChainPrerouting, (*trace).always},
	{iptables.TableFilter, iptables.ChainInput, (*trace).toLocal},
	{iptables.TableFilter, iptables.ChainForward, (*trace).forwarded},
	{iptables.TableNAT, iptables.ChainPostrouting, (*trace).forwarded},
}

func (tr *trace) always(*Packet, *flow) bool { return true }

func (tr *trace) toLocal(_ *Packet, fl *flow) bool { return tr.isLocal(fl.dst) }

// leaving sets the output interface of a packet about to leave.
func (tr *trace) leaving(p *Packet, fl *flow) bool {
	fl.out = p.OutIface
	if fl.out == "" {
		fl.out = "eth0"
		if tr.isLocal(fl.dst) {
			fl.out = "lo"
		}
	}
	return true
}

func (tr *trace) forwarded(p *Packet, fl *flow) bool {
	return !tr.isLocal(fl.dst) && tr.leaving(p, fl)
}

// loopedBack turns a local packet for a local address into one arriving
// on lo.
func (tr *trace) loopedBack(_ *Packet, fl *flow) bool {
	if !tr.isLocal(fl.dst) {
		return false
	}
	fl.in, fl.out = "lo", ""
	return true
}

// hooks runs the packet through the hooks of its path and returns the
// flows that made it through and the outcomes of those that did not.
func (tr *trace) hooks(p Packet, fl flow) ([]flow, []Outcome, error) {
	path := arrivingPath
	if p.Local {
		path = localPath
	}
	var done []Outcome
	flows := []flow{fl}
	for _, s := range path {
		var next []flow
		for _, fl := range flows {
			if !s.when(tr, &p, &fl) {
				next = append(next, fl)
				continue
			}
			pass, out, err := tr.hook(s.table, s.chain, fl)
			if err != nil {
				return nil, nil, err
			}
			next, done = append(next, pass...), append(done, out...)
		}
		flows = next
	}
	return flows, done, nil
}

// hook runs one built-in chain. Flows it lets through are returned, the
// others become outcomes.
func (tr *trace) hook(t iptables.Table, chainName string, fl flow) ([]flow, []Outcome, error) {
	tbl := tr.f.tables[t]
	if tbl == nil {
		return []flow{fl}, nil, nil
	}
	c := tbl.chains[chainName]
	var results []result
	if err := tr.run(c, 0, fl, 0, &results); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", t, chainName, err)
	}
	var pass []flow
	var done []Outcome
	for _, r := range results {
		ex := r.ex
		if ex == exitReturn && c.policy == "DROP" {
			ex = exitDrop
		}
		switch ex {
		case exitDrop:
			done = append(done, Outcome{Verdict: Drop})
		case exitReject:
			done = append(done, Outcome{Verdict: Reject})
		default:
			pass = append(pass, r.fl)
		}
	}
	return pass, done, nil
}

// run walks chain c from rule i and appends how each path leaves it.
func (tr *trace) run(c *chain, i int, fl flow, depth int, out *[]result) error {
	if depth > 100 {
		return fmt.Errorf("chain %s: jumps nested too deep (a loop?)", c.name)
	}
	for ; i < len(c.rules); i++ {
		r := c.rules[i]
		m, err := tr.matchRule(r, &fl)
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		if m == no {
			continue
		}
		if m == maybe { // first every path where the rule does not match
			if tr.paths++; tr.paths > maxPaths {
				return fmt.Errorf("more than %d paths", maxPaths)
			}
			if err := tr.run(c, i+1, fl, depth, out); err != nil {
				return err
			}
		}
		if r.jump != nil {
			return tr.jump(c, i, r, fl, depth, out)
		}
		next := fl
		ex, terminal, err := tr.target(r, &next)
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		if terminal {
			*out = append(*out, result{next, ex})
			return nil
		}
		fl = next
	}
	*out = append(*out, result{fl, exitReturn})
	return nil
}

// jump walks the chain rule i of c jumps or goes to, then carries on in c
// with every path that returned.
func (tr *trace) jump(c *chain, i int, r *Rule, fl flow, depth int, out *[]result) error {
	var sub []result
	if err := tr.run(r.jump, 0, fl, depth+1, &sub); err != nil {
		return err
	}
	for _, s := range sub {
		if s.ex != exitReturn || r.Goto {
			*out = append(*out, s)
			continue
		}
		if err := tr.run(c, i+1, s.fl, depth, out); err != nil {
			return err
		}
	}
	return nil
}

func (tr *trace) isLocal(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, l := range tr.node.LocalAddrs {
		if l == a {
			return true
		}
	}
	return false
}

// outcome is the final outcome of a flow that made it through every hook.
func (fl *flow) outcome() Outcome {
	o := Outcome{Verdict: Accept, Masquerade: fl.masq}
	switch {
	case fl.redir:
		o.Verdict, o.To = Redirect, netip.AddrPortFrom(netip.Addr{}, fl.dport)
	case fl.dnat:
		o.Verdict, o.To = DNAT, netip.AddrPortFrom(fl.dst, fl.dport)
	}
	return o
}

func dedup(os []Outcome) Outcomes {
	sort.Slice(os, func(i, j int) bool { return os[i].String() < os[j].String() })
	out := Outcomes{}
	for i, o := range os {
		if i == 0 || o != os[i-1] {
			out = append(out, o)
		}
	}
	return out
}
