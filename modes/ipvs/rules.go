package ipvsmode

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// rules writes the mode's iptables rules. They depend only on which sets hold
// entries and on the node-access filters, so most syncs render the same payload
// and write none.
type rules struct {
	c  *config
	st *state
	p  *iptables.Payload
}

const (
	nat    = iptables.TableNAT
	filter = iptables.TableFilter
)

// render writes every owned chain, declared (and so flushed) and filled, into p.
func (r rules) render() {
	r.p.Reset()
	for _, t := range ownedChains {
		for _, ch := range t.chains {
			r.p.Chain(t.table, ch)
		}
	}
	r.natMasquerade()
	r.natServices()
	r.natTail()
	r.filterFirewall()
	r.filterAccess()
}

// has reports whether a set holds entries: rules matching empty sets are left out.
func (r rules) has(id setID) bool { return len(r.st.entries[id]) > 0 }

// match returns the comment and set match of a rule.
func (r rules) match(id setID, dirs string) []string {
	return []string{"-m", "comment", "--comment", setInfos[id].comment, "-m", "set", "--match-set", r.c.sets.name(id), dirs}
}

// rule writes a rule built from parts.
func (r rules) rule(t iptables.Table, chain string, parts ...[]string) {
	r.p.Rule(t, chain, slices.Concat(parts...)...)
}

func words(w ...string) []string { return w }

// natMasquerade writes hairpin masquerading and the load-balancer and node-port
// chains.
func (r rules) natMasquerade() {
	loopback := "127.0.0.0/8"
	if r.c.ipv6 {
		loopback = "::1/128"
	}
	r.rule(nat, chainServices, words("-s", loopback, "-j", "RETURN"))
	if r.has(setLoopBack) {
		r.rule(nat, chainPostrouting, r.match(setLoopBack, "dst,dst,src"), words("-j", "MASQUERADE"))
	}
	if r.has(setLoadBalancer) {
		r.rule(nat, chainServices, r.match(setLoadBalancer, "dst,dst"), words("-j", chainLoadBalancer))
	}
	if r.has(setLoadBalancerLocal) {
		r.rule(nat, chainLoadBalancer, r.match(setLoadBalancerLocal, "dst,dst"), words("-j", "RETURN"))
	}
	for _, np := range []struct {
		local, all setID
		proto      string
		dirs       string
	}{
		{setNodePortLocalTCP, setNodePortTCP, "tcp", "dst"},
		{setNodePortLocalUDP, setNodePortUDP, "udp", "dst"},
		{setNodePortLocalSCTP, setNodePortSCTP, "sctp", "dst,dst"},
	} {
		if r.has(np.local) {
			r.rule(nat, chainNodePort, words("-p", np.proto), r.match(np.local, np.dirs), words("-j", "RETURN"))
		}
		if r.has(np.all) {
			r.rule(nat, chainNodePort, words("-p", np.proto), r.match(np.all, np.dirs), words("-j", chainMarkMasq))
		}
	}
}

// natServices writes the masquerading of cluster and external IPs.
func (r rules) natServices() {
	if r.has(setClusterIP) {
		switch {
		case r.c.masqueradeAll:
			r.rule(nat, chainServices, r.match(setClusterIP, "dst,dst"), words("-j", chainMarkMasq))
		case r.c.clusterCIDR.IsValid():
			// Traffic from outside the pod network is masqueraded, so replies come back.
			r.rule(nat, chainServices, words("!", "-s", r.c.clusterCIDR.String()), r.match(setClusterIP, "dst,dst"),
				words("-j", chainMarkMasq))
		default:
			// Without the pod network, masquerade what the node sends from a service
			// address (the source it picks for an address on kube-ipvs0).
			r.rule(nat, chainServices, r.match(setClusterIP, "src,dst"), words("-j", chainMarkMasq))
		}
	}
	if r.has(setExternalIP) {
		r.rule(nat, chainServices, r.match(setExternalIP, "dst,dst"), words("-j", chainMarkMasq))
		r.rule(nat, chainServices, r.match(setExternalIP, "dst,dst"), words("-m", "addrtype", "--dst-type", "LOCAL", "-j", "ACCEPT"))
	}
	if r.has(setExternalIPLocal) {
		r.rule(nat, chainServices, r.match(setExternalIPLocal, "dst,dst"), words("-m", "addrtype", "--dst-type", "LOCAL", "-j", "ACCEPT"))
	}
}

// natTail writes the node-port jump, the accepts that end the chain and the
// masquerading itself.
func (r rules) natTail() {
	r.rule(nat, chainServices, words("-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNodePort))
	r.rule(nat, chainLoadBalancer, words("-j", chainMarkMasq))
	for _, id := range []setID{setClusterIP, setLoadBalancer} {
		if r.has(id) {
			r.rule(nat, chainServices, words("-m", "set", "--match-set", r.c.sets.name(id), "dst,dst", "-j", "ACCEPT"))
		}
	}
	mark := r.c.masqMark + "/" + r.c.masqMark
	r.rule(nat, chainPostrouting, words("-m", "mark", "!", "--mark", mark, "-j", "RETURN"))
	r.rule(nat, chainPostrouting, words("-j", "MARK", "--xor-mark", r.c.masqMark))
	masq := words("-m", "comment", "--comment", "kubernetes service traffic requiring SNAT", "-j", "MASQUERADE")
	if r.c.randomFully {
		masq = append(masq, "--random-fully")
	}
	r.rule(nat, chainPostrouting, masq)
	r.rule(nat, chainMarkMasq, words("-j", "MARK", "--or-mark", r.c.masqMark))
}

// filterFirewall writes the load-balancer source ranges and the node-access filters.
func (r rules) filterFirewall() {
	if r.has(setLoadBalancerFW) {
		r.rule(filter, chainProxyFirewall, r.match(setLoadBalancerFW, "dst,dst"), words("-j", chainSourceRanges))
	}
	for _, id := range []setID{setLoadBalancerSourceCIDR, setLoadBalancerSourceIP} {
		if r.has(id) {
			r.rule(filter, chainSourceRanges, r.match(id, "dst,dst,src"), words("-j", "RETURN"))
		}
	}
	r.rule(filter, chainSourceRanges, words("-j", "DROP"))
	for _, f := range r.sortedOutFilters() {
		// Seen from filter OUTPUT the packet already goes to a real server: the
		// ipvs match finds the virtual server it was sent to.
		addr := f.addr.String()
		r.rule(filter, chainIPVSOutFilter, words("-s", addr, "-m", "ipvs", "--vaddr", addr, "--vproto", f.proto,
			"--vport", strconv.Itoa(int(f.port)), "-j", "DROP"))
	}
}

// filterAccess writes forwarding, health checks and the filter that refuses ports
// of service addresses that are not services.
func (r rules) filterAccess() {
	mark := r.c.masqMark + "/" + r.c.masqMark
	r.rule(filter, chainForward, words("-m", "comment", "--comment", "kubernetes forwarding rules", "-m", "mark", "--mark", mark, "-j", "ACCEPT"))
	r.rule(filter, chainForward, words("-m", "comment", "--comment", "kubernetes forwarding conntrack rule",
		"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"))
	r.rule(filter, chainNodePort, r.match(setHealthCheckNodePort, "dst"), words("-j", "ACCEPT"))
	for _, id := range []setID{setLoadBalancer, setClusterIP, setExternalIP, setExternalIPLocal} {
		r.rule(filter, chainIPVSFilter, words("-m", "set", "--match-set", r.c.sets.name(id), "dst,dst", "-j", "RETURN"))
	}
	r.rule(filter, chainIPVSFilter, words("-m", "set", "--match-set", r.c.sets.name(setHealthCheckNodePort), "dst", "-j", "RETURN"))
	r.rule(filter, chainIPVSFilter, words("-m", "conntrack", "--ctstate", "NEW",
		"-m", "set", "--match-set", r.c.sets.name(setIPVSIPs), "dst", "-j", "REJECT"))
}

func (r rules) sortedOutFilters() []outFilter {
	out := make([]outFilter, 0, len(r.st.outFilters))
	for f := range r.st.outFilters {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b outFilter) int {
		return cmp.Or(a.addr.Compare(b.addr), cmp.Compare(a.proto, b.proto), cmp.Compare(a.port, b.port))
	})
	return out
}

// applyRules renders the rules and runs iptables-restore when they differ from
// what was last applied, or always when force.
func (s *syncer) applyRules(force bool) error {
	r := rules{c: s.c, st: s.st, p: &s.b.payload}
	r.render()
	payload, err := r.p.Bytes()
	if err != nil {
		return fmt.Errorf("rendering iptables rules: %w", err)
	}
	if !force && slices.Equal(payload, s.st.rules) {
		return nil
	}
	m := s.b.opts.Metrics
	if err := s.b.opts.IPTables.Restore(s.ctx, payload); err != nil {
		if m != nil {
			m.IPTablesRestoreFailed(s.c.family, !force)
		}
		return fmt.Errorf("iptables-restore: %w", err)
	}
	s.st.rules = append(s.st.rules[:0], payload...)
	if m != nil {
		for _, t := range []iptables.Table{nat, filter} {
			_, n := r.p.Counts(t)
			m.SetIPTablesRules(s.c.family, string(t), n, n)
		}
	}
	return nil
}

// ensureJumps inserts the jumps from built-in chains that are missing.
func ensureJumps(ctx context.Context, ipt iptables.Restorer) error {
	for _, j := range jumps {
		if _, err := ipt.EnsureRule(ctx, iptables.Prepend, j.table, j.from, j.args()...); err != nil {
			return fmt.Errorf("ensuring the jump from %s/%s to %s: %w", j.table, j.from, j.to, err)
		}
	}
	return nil
}
