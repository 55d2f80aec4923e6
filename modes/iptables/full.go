package iptablesmode

import (
	"net/netip"
	"slices"

	"github.com/kproxy/kproxy/proxy"
)

// fullInput is what a full render reads besides the snapshot.
type fullInput struct {
	// nodePortIPs are the addresses node ports listen on when --nodeport-addresses
	// is set.
	nodePortIPs []netip.Addr
	// existing are the per-service nat chains the kernel holds (from iptables-save,
	// or the previous state): those no service uses any more are deleted.
	existing map[string]struct{}
	// jumps fix the jumps from built-in chains, per table ("" when nothing to fix).
	filterJumps, natJumps string
}

// rendered is a payload and the kernel state it leads to once applied.
type rendered struct {
	payload []byte
	// state is the new state of a full render; delta and order the changes of a
	// partial one.
	state *kernelState
	delta stateDelta
	order []proxy.ServicePortName
	// natWritten and filterWritten count the rules the payload writes.
	natWritten, filterWritten int
}

// full renders the whole ruleset: every chain kproxy owns is declared (so
// flushed) and filled again, and chains no service uses any more are deleted.
func (r *renderer) full(snap *proxy.Snapshot, order []proxy.ServicePortName, in fullInput) rendered {
	for i := range r.shared {
		r.shared[i].reset()
	}
	r.chains.reset()
	r.rules.reset()
	r.segs = r.segs[:0]
	r.reserve(snap)
	state := newKernelState(len(order))
	programmed := order
	for i, name := range order {
		st := r.renderService(snap.Services[name], snap.Node.IPs)
		if st == nil {
			if len(programmed) == len(order) {
				programmed = slices.Clone(order[:i])
			}
			continue
		}
		if len(programmed) != len(order) {
			programmed = append(programmed, name)
		}
		state.set(name, st)
		for c := range numShared {
			for _, spec := range st.specs[c] {
				r.shared[c].op("-A", sharedChain[c].name, spec)
			}
		}
	}
	r.forgetNames(snap)
	stale := staleChains(in.existing, state)

	out := &r.out
	out.reset()
	out.WriteString("*filter\n")
	for _, c := range r.filterChains() {
		out.chainLine(c)
	}
	out.WriteString(in.filterJumps)
	before := out.lines
	r.staticFilterRules(out)
	state.staticFilter = out.lines - before
	for _, c := range [...]shared{filterServices, filterExternal, filterNodePorts, filterFirewall} {
		out.Write(r.shared[c].Bytes())
	}
	out.WriteString("COMMIT\n*nat\n")
	for _, c := range [...]string{chainServices, chainNodePorts, chainPostrouting, chainMarkMasq} {
		out.chainLine(c)
	}
	for _, c := range stale {
		out.chainLine(c)
	}
	out.WriteString(in.natJumps)
	before = out.lines
	r.staticNATRules(out)
	state.staticNAT = out.lines - before
	// Service chains before the shared chains that jump to them; see order.go.
	r.writeServiceChains(out)
	out.Write(r.shared[natServices].Bytes())
	before = out.lines
	r.nodePortJumps(out, in.nodePortIPs)
	state.staticNAT += out.lines - before
	out.Write(r.shared[natNodePorts].Bytes())
	for _, c := range stale {
		out.op("-X", c, "")
	}
	out.WriteString("COMMIT\n*mangle\n")
	out.chainLine(chainCanary)
	out.WriteString("COMMIT\n")

	state.order = programmed
	res := rendered{payload: out.Bytes(), state: state}
	res.natWritten, res.filterWritten = state.ruleCounts()
	return res
}

// filterChains are the filter chains a full sync declares.
func (r *renderer) filterChains() []string {
	chains := []string{chainServices, chainExternalServices, chainForward, chainNodePorts, chainProxyFirewall}
	if r.cfg.localhostNodePorts {
		chains = append(chains, chainLocalnetFirewall)
	}
	return chains
}

// staticNATRules writes the rules of KUBE-POSTROUTING and KUBE-MARK-MASQ: packets
// marked for SNAT are masqueraded once, and the mark is cleared so a packet that
// goes through the stack again is not masqueraded twice.
func (r *renderer) staticNATRules(b *lineBuf) {
	mark := r.cfg.masqMark
	b.start(chainPostrouting)
	b.WriteString(" -m mark ! --mark ")
	b.WriteString(mark + "/" + mark)
	b.jump("RETURN")
	b.end()
	b.start(chainPostrouting)
	b.WriteString(" -j MARK --xor-mark ")
	b.WriteString(mark)
	b.end()
	b.start(chainPostrouting)
	b.comment("kubernetes service traffic requiring SNAT")
	b.jump("MASQUERADE")
	if r.cfg.randomFully {
		b.WriteString(" --random-fully")
	}
	b.end()
	b.start(chainMarkMasq)
	b.WriteString(" -j MARK --or-mark ")
	b.WriteString(mark)
	b.end()
}

// staticFilterRules writes KUBE-FORWARD (let marked and established service traffic
// be forwarded, drop INVALID packets unless conntrack is liberal) and, for localhost
// node ports, the rule blocking martian packets to 127.0.0.0/8.
func (r *renderer) staticFilterRules(b *lineBuf) {
	mark := r.cfg.masqMark
	if !r.cfg.tcpLiberal {
		b.start(chainForward)
		b.WriteString(" -m conntrack --ctstate INVALID -j DROP")
		b.end()
	}
	b.start(chainForward)
	b.comment("kubernetes forwarding rules")
	b.WriteString(" -m mark --mark ")
	b.WriteString(mark + "/" + mark)
	b.jump("ACCEPT")
	b.end()
	b.start(chainForward)
	b.comment("kubernetes forwarding conntrack rule")
	b.WriteString(" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
	b.end()
	if r.cfg.localhostNodePorts {
		b.start(chainLocalnetFirewall)
		b.comment("block incoming localnet connections")
		b.WriteString(" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP")
		b.end()
	}
}

// staleChains returns, sorted, the per-service chains of existing that state does
// not use.
func staleChains(existing map[string]struct{}, state *kernelState) []string {
	if len(existing) == 0 {
		return nil
	}
	used := state.ownedChains()
	var stale []string
	for c := range existing {
		if _, ok := used[c]; !ok && isServiceChain(c) {
			stale = append(stale, c)
		}
	}
	slices.Sort(stale)
	return stale
}

// forgetNames drops cached names of ports the snapshot no longer has.
func (r *renderer) forgetNames(snap *proxy.Snapshot) {
	for name := range r.names {
		if _, ok := snap.Services[name]; !ok {
			delete(r.names, name)
		}
	}
}
