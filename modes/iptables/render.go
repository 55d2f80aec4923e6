package iptablesmode

import (
	"hash/maphash"
	"net/netip"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/endpoints"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack"
)

// renderer turns snapshots into iptables-restore input. Rendering is a pure function
// of the snapshot, the configuration and the node's addresses; the renderer only
// keeps caches (chain names, probabilities) and reused buffers between calls.
type renderer struct {
	cfg   config
	names nameCache
	probs []string // probs[n] is the probability string for the first of n endpoints
	seed  maphash.Seed

	spec   lineBuf            // one shared-chain rule being built
	shared [numShared]lineBuf // a full sync's rules of each shared chain
	chains lineBuf            // nat chain declarations of services
	rules  lineBuf            // rules of services' own nat chains
	out    lineBuf            // the assembled payload

	segs     []chainSeg // each own chain's rules in rules, in rendering order
	segOrder []int      // scratch for ordering segs (see order.go)
}

// newRenderer returns a renderer for cfg.
func newRenderer(cfg config) *renderer {
	return &renderer{cfg: cfg, names: nameCache{}, seed: maphash.MakeSeed()}
}

// plan is what one service port needs, decided from its endpoints and policies the
// way upstream kube-proxy decides it.
type plan struct {
	sp *proxy.Service
	n  *serviceNames

	// any: some endpoint somewhere can take traffic.
	any bool
	// clusterChain and localChain are the KUBE-SVC- and KUBE-SVL- chains, "" when
	// the port has no endpoints for that policy.
	clusterChain, localChain string
	// internalChain takes cluster IP traffic; "" sends it to internalVerdict.
	internalChain, internalVerdict, verdictComment string
	// externalPolicyChain takes external traffic after KUBE-EXT-; "" drops or
	// rejects it (externalVerdict).
	externalPolicyChain, externalVerdict string
	// usesExt: the port has a KUBE-EXT- chain; usesFW: a KUBE-FW- chain.
	usesExt, usesFW bool
	// lbChain takes traffic to load-balancer IPs.
	lbChain string
	// reachable are the endpoints this node may send to, each once.
	reachable []endpoints.Endpoint
}

// makePlan decides how to program sp.
func (r *renderer) makePlan(sp *proxy.Service, n *serviceNames) plan {
	sel := sp.Endpoints
	p := plan{sp: sp, n: n, any: sel.Any}
	if len(sel.Cluster) > 0 {
		p.clusterChain = n.svc
	}
	if len(sel.Local) > 0 {
		p.localChain = n.svl
	}
	p.internalChain = p.clusterChain
	if sp.Policy.InternalLocal {
		p.internalChain = p.localChain
	}
	p.externalPolicyChain = p.clusterChain
	if sp.Policy.ExternalLocal {
		p.externalPolicyChain = p.localChain
	}
	switch {
	case !p.any:
		p.internalChain, p.externalPolicyChain = "", ""
		p.internalVerdict, p.externalVerdict = "REJECT", "REJECT"
		p.verdictComment = " has no endpoints"
	default:
		p.internalVerdict, p.externalVerdict = "DROP", "DROP"
		p.verdictComment = " has no local endpoints"
	}
	p.usesExt = p.any && sp.ExternallyReachable()
	p.lbChain = n.ext
	if p.any && len(sp.LoadBalancerIPs) > 0 && sp.SourceRanges != nil {
		p.usesFW, p.lbChain = true, n.fw
	}
	p.reachable = reachable(sel)
	return p
}

// reachable merges the Cluster and Local selections, keeping each endpoint once.
func reachable(sel endpoints.Selection) []endpoints.Endpoint {
	if len(sel.Local) == 0 {
		return sel.Cluster
	}
	if len(sel.Cluster) == 0 {
		return sel.Local
	}
	out := append([]endpoints.Endpoint(nil), sel.Cluster...)
	for _, l := range sel.Local {
		found := false
		for _, c := range sel.Cluster {
			if c.AddrPort() == l.AddrPort() {
				found = true
				break
			}
		}
		if !found {
			out = append(out, l)
		}
	}
	return out
}

// renderService renders one service port: its rules in the shared chains go into
// st.specs, its own chains into r.chains and r.rules. It returns nil, writing
// nothing, for a port it cannot program (see programmable).
func (r *renderer) renderService(sp *proxy.Service, nodeIPs []netip.Addr) *serviceState {
	if reason := r.programmable(sp); reason != "" {
		klog.ErrorS(nil, "Not programming a service port", "service", sp.Name.String(), "family", r.cfg.family, "reason", reason)
		return nil
	}
	n := r.names.get(sp.Name)
	p := r.makePlan(sp, n)
	st := &serviceState{svc: sp}
	st.noLocalInternal = p.any && sp.Policy.InternalLocal && p.localChain == ""
	st.noLocalExternal = p.any && p.usesExt && sp.Policy.ExternalLocal && p.localChain == ""

	r.clusterIPSpecs(&p, st)
	r.externalSpecs(&p, st)
	r.nodePortSpecs(&p, st)

	chainsFrom, rulesFrom, before := r.chains.Len(), r.rules.Len(), r.rules.lines
	r.policyChain(&p, st, p.clusterChain, p.sp.Endpoints.Cluster)
	r.policyChain(&p, st, p.localChain, p.sp.Endpoints.Local)
	r.externalChain(&p, st)
	r.firewallChain(&p, st, nodeIPs)
	r.endpointChains(&p, st)
	st.natRules = r.rules.lines - before
	st.body = maphash.Bytes(r.seed, r.chains.Bytes()[chainsFrom:]) ^ maphash.Bytes(r.seed, r.rules.Bytes()[rulesFrom:])
	return st
}

// programmable tells why a port cannot be programmed, "" when it can. proxy.Table
// never gives such ports; the check keeps one bad port from failing every sync.
func (r *renderer) programmable(sp *proxy.Service) string {
	if sp == nil {
		return "no service"
	}
	if !sp.ClusterIP.IsValid() || sp.ClusterIP.Is4() == r.cfg.ipv6 {
		return "cluster IP " + sp.ClusterIP.String() + " is not of the family"
	}
	if sp.Port == 0 {
		return "port 0"
	}
	if _, ok := conntrack.ProtocolNumber(sp.Protocol()); !ok {
		return "unknown protocol " + string(sp.Protocol())
	}
	for _, ips := range [][]netip.Addr{sp.ExternalIPs, sp.LoadBalancerIPs} {
		for _, ip := range ips {
			if !ip.IsValid() || ip.Is4() == r.cfg.ipv6 {
				return "address " + ip.String() + " is not of the family"
			}
		}
	}
	for _, ep := range reachable(sp.Endpoints) {
		if !ep.IP.IsValid() || ep.IP.Is4() == r.cfg.ipv6 || ep.Port == 0 {
			return "endpoint " + ep.String() + " is not of the family"
		}
	}
	return ""
}

// clusterIPSpecs renders the rules that catch traffic to the cluster IP.
func (r *renderer) clusterIPSpecs(p *plan, st *serviceState) {
	sp := p.sp
	b := &r.spec
	if p.internalChain != "" {
		b.comment2(p.n.name, " cluster IP")
		b.proto(p.n.proto)
		b.WriteString(" -d ")
		b.host(sp.ClusterIP)
		b.dport(sp.Port)
		b.jump(p.internalChain)
		st.specs[natServices] = append(st.specs[natServices], b.take())
		return
	}
	b.comment2(p.n.name, p.verdictComment)
	b.proto(p.n.proto)
	b.WriteString(" -d ")
	b.host(sp.ClusterIP)
	b.dport(sp.Port)
	b.jump(p.internalVerdict)
	st.specs[filterServices] = append(st.specs[filterServices], b.take())
}

// internalMasquerade writes, at the top of the chain taking cluster IP traffic, the
// rule that marks it for SNAT: all of it with --masquerade-all, else what comes
// from outside the cluster CIDR (a node routing the service range for others).
func (r *renderer) internalMasquerade(p *plan, chain string) {
	if chain != p.internalChain || (!r.cfg.masqueradeAll && !r.cfg.clusterCIDR.IsValid()) {
		return
	}
	if !r.cfg.masqueradeAll && r.cfg.clusterCIDR.Bits() == 0 {
		return // a /0 cluster CIDR: no source is outside it (and nft refuses "! -s 0/0")
	}
	b := &r.rules
	b.start(chain)
	b.comment2(p.n.name, " cluster IP")
	b.proto(p.n.proto)
	b.WriteString(" -d ")
	b.host(p.sp.ClusterIP)
	b.dport(p.sp.Port)
	if !r.cfg.masqueradeAll {
		b.WriteString(" ! -s ")
		b.prefix(r.cfg.clusterCIDR)
	}
	b.jump(chainMarkMasq)
	b.end()
}
