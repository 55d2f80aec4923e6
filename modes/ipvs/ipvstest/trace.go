package ipvstest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// Packet is the first packet of a connection, as the Tracer sees it.
type Packet struct {
	Source netip.Addr
	// Protocol is "tcp", "udp" or "sctp".
	Protocol string
	Dest     netip.Addr
	Port     uint16
	// Local is set for a packet sent by a process of the node; otherwise it
	// arrives from a pod or from outside.
	Local bool
}

// Verdict is what finally happens to a traced packet.
type Verdict uint8

const (
	// Forward: sent on to a real server (or, without a virtual server, to its
	// destination).
	Forward Verdict = iota
	// Deliver: delivered to a process of the node itself.
	Deliver
	// Reject: refused with an error sent back (a REJECT rule, or IPVS answering
	// "port unreachable" for a virtual server without real servers).
	Reject
	// Drop: silently dropped.
	Drop
)

// String returns the verdict in upper case.
func (v Verdict) String() string { return [...]string{"FORWARD", "DELIVER", "REJECT", "DROP"}[v] }

// Outcome is one way a traced packet can end.
type Outcome struct {
	Verdict Verdict
	// To is where a forwarded packet goes.
	To netip.AddrPort
	// Masquerade is set when the source was rewritten to the node's.
	Masquerade bool
}

// String prints "10.0.0.1:80", "10.0.0.1:80 masq", "DELIVER", "REJECT" or "DROP".
func (o Outcome) String() string {
	if o.Verdict != Forward {
		return o.Verdict.String()
	}
	if o.Masquerade {
		return o.To.String() + " masq"
	}
	return o.To.String()
}

// Tracer follows packets through the iptables fake, the ipsets, the addresses of
// the node and the IPVS fake, in the order of the kernel's hooks:
//
//   - a packet arriving for a local address that is a virtual server goes through
//     nat PREROUTING and filter INPUT (where KUBE-IPVS-FILTER and the source-range
//     firewall may refuse it), then IPVS (LOCAL_IN) picks a real server;
//   - a local packet goes through nat OUTPUT, then IPVS (LOCAL_OUT);
//   - the packet, now for the real server, goes through filter OUTPUT and nat
//     POSTROUTING, where it is masqueraded if marked or hairpinned.
//
// Each real server of weight above 0 is an outcome; a virtual server without any
// rejects, as IPVS does. A packet for no virtual server just follows iptables.
type Tracer struct {
	ipvs *Fake
	ipt  *iptablestest.Fake
	sets iptablestest.IPSets
	nl   *Netlink
	mark uint32
}

// NewTracer returns a Tracer over the fakes' current and future state. masqMark is
// the mark the rules set for masquerading (0x4000 by default).
func NewTracer(ipvs *Fake, ipt *iptablestest.Fake, sets iptablestest.IPSets, nl *Netlink, masqMark uint32) *Tracer {
	return &Tracer{ipvs: ipvs, ipt: ipt, sets: sets, nl: nl, mark: masqMark}
}

// sourcePort is the source port of traced packets.
const sourcePort = 40000

// Trace returns every outcome the packet can reach, sorted.
func (t *Tracer) Trace(p Packet) ([]Outcome, error) {
	local := t.nl.AllAddresses()
	node := iptablestest.Node{LocalAddrs: local, IPSets: t.sets}
	first := iptablestest.Packet{Source: p.Source, SourcePort: sourcePort, Protocol: p.Protocol,
		Dest: p.Dest, DestPort: p.Port, Local: p.Local}
	rss, isVS := t.ipvs.Lookup(Key{Protocol: ProtocolNumber(p.Protocol), Addr: p.Dest, Port: p.Port})
	if !isVS || !(slices.Contains(local, p.Dest) || p.Dest.IsLoopback()) {
		outs, err := iptablestest.NewTracer(t.ipt, node).Trace(first)
		if err != nil {
			return nil, err
		}
		return plain(outs, netip.AddrPortFrom(p.Dest, p.Port), local), nil
	}
	if !p.Local {
		outs, err := iptablestest.NewTracer(t.ipt, node).Trace(first)
		if err != nil {
			return nil, err
		}
		if refused := refusals(outs); len(refused) > 0 {
			return refused, nil
		}
	}
	mark, err := t.markBeforeIPVS(first, node)
	if err != nil {
		return nil, err
	}
	return t.toRealServers(p, rss, mark, node)
}

// toRealServers follows the packet from IPVS to each active real server.
func (t *Tracer) toRealServers(p Packet, rss []RealServer, mark uint32, node iptablestest.Node) ([]Outcome, error) {
	var out []Outcome
	for _, rs := range rss {
		if rs.Weight <= 0 {
			continue
		}
		after := iptablestest.Packet{Source: p.Source, SourcePort: sourcePort, Protocol: p.Protocol,
			Dest: rs.Addr.Addr(), DestPort: rs.Addr.Port(), Local: true, Mark: mark}
		outs, err := iptablestest.NewTracer(t.ipt, node).Trace(after)
		if err != nil {
			return nil, fmt.Errorf("after IPVS, to %s: %w", rs.Addr, err)
		}
		for _, o := range outs {
			switch o.Verdict {
			case iptablestest.Accept:
				out = append(out, Outcome{Verdict: Forward, To: rs.Addr, Masquerade: o.Masquerade})
			case iptablestest.Reject:
				out = append(out, Outcome{Verdict: Reject})
			case iptablestest.Drop:
				out = append(out, Outcome{Verdict: Drop})
			default:
				return nil, fmt.Errorf("after IPVS, to %s: unexpected %s", rs.Addr, o)
			}
		}
	}
	if len(out) == 0 {
		return []Outcome{{Verdict: Reject}}, nil
	}
	return sortOutcomes(out), nil
}

// markBeforeIPVS returns the packet's mark when IPVS takes it: after nat
// PREROUTING for an arriving packet, after nat OUTPUT for a local one. The
// iptables tracer does not report marks, so it traces the packet through a copy of
// the rules whose filter INPUT (or OUTPUT) first rejects marked packets.
func (t *Tracer) markBeforeIPVS(p iptablestest.Packet, node iptablestest.Node) (uint32, error) {
	ctx := context.Background()
	clone := iptablestest.New(t.ipt.Family())
	clone.UseIPSets(t.sets)
	for _, table := range []iptables.Table{iptables.TableNAT, iptables.TableFilter} {
		saved, err := t.ipt.Save(ctx, table)
		if err == nil {
			err = clone.Restore(ctx, saved)
		}
		if err != nil {
			return 0, fmt.Errorf("copying the %s table: %w", table, err)
		}
	}
	chain := iptables.ChainInput
	if p.Local {
		chain = iptables.ChainOutput
	}
	mark := fmt.Sprintf("%#x/%#x", t.mark, t.mark)
	if _, err := clone.EnsureRule(ctx, iptables.Prepend, iptables.TableFilter, chain, "-m", "mark", "--mark", mark, "-j", "REJECT"); err != nil {
		return 0, err
	}
	outs, err := iptablestest.NewTracer(clone, node).Trace(p)
	if err != nil {
		return 0, err
	}
	marked := 0
	for _, o := range outs {
		if o.Verdict == iptablestest.Reject {
			marked++
		}
	}
	switch marked {
	case 0:
		return 0, nil
	case len(outs):
		return t.mark, nil
	}
	return 0, fmt.Errorf("the packet is marked on some paths only: %s", outs)
}

// plain converts the outcomes of a packet no virtual server takes, sent to dest.
func plain(outs iptablestest.Outcomes, dest netip.AddrPort, local []netip.Addr) []Outcome {
	isLocal := func(a netip.Addr) bool { return slices.Contains(local, a) || a.IsLoopback() }
	var out []Outcome
	for _, o := range outs {
		to := dest
		switch o.Verdict {
		case iptablestest.Reject:
			out = append(out, Outcome{Verdict: Reject})
			continue
		case iptablestest.Drop:
			out = append(out, Outcome{Verdict: Drop})
			continue
		case iptablestest.Redirect:
			out = append(out, Outcome{Verdict: Deliver})
			continue
		case iptablestest.DNAT:
			to = o.To
		}
		if isLocal(to.Addr()) {
			out = append(out, Outcome{Verdict: Deliver})
		} else {
			out = append(out, Outcome{Verdict: Forward, To: to, Masquerade: o.Masquerade})
		}
	}
	return sortOutcomes(out)
}

// refusals returns the rejects and drops among outcomes.
func refusals(outs iptablestest.Outcomes) []Outcome {
	var out []Outcome
	for _, o := range outs {
		switch o.Verdict {
		case iptablestest.Reject:
			out = append(out, Outcome{Verdict: Reject})
		case iptablestest.Drop:
			out = append(out, Outcome{Verdict: Drop})
		}
	}
	return sortOutcomes(out)
}

func sortOutcomes(os []Outcome) []Outcome {
	slices.SortFunc(os, func(a, b Outcome) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(os)
}
