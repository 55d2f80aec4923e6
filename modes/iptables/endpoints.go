package iptablesmode

import (
	"strconv"

	"github.com/kproxy/kproxy/endpoints"
)

// needsChain reports whether an endpoint gets its own KUBE-SEP- chain. Only two
// features need one, because they must act on the endpoint chosen by the random
// balancing rule and that choice cannot be repeated in a second rule:
//   - session affinity records the client in the endpoint's "recent" list;
//   - hairpin SNAT for endpoints on this node: a pod reaching itself through its
//     service must be masqueraded, but its traffic to the other endpoints must not
//     (their network policies see the pod's address).
//
// Other endpoints are DNATed straight from the service chain (see remoteHairpin).
func (p *plan) needsChain(ep endpoints.Endpoint) bool {
	return p.sp.AffinityTimeout > 0 || ep.Local
}

// policyChain writes a KUBE-SVC- or KUBE-SVL- chain: the internal masquerade rule
// when cluster IP traffic arrives here, affinity checks, then one balancing rule per
// endpoint, endpoint i of n taken with probability 1/(n-i).
func (r *renderer) policyChain(p *plan, st *serviceState, chain string, eps []endpoints.Endpoint) {
	if chain == "" {
		return
	}
	r.beginChain(st, chain)
	r.internalMasquerade(p, chain)
	b := &r.rules
	affinity := p.sp.AffinityTimeout > 0
	if affinity {
		secs := int64(p.sp.AffinityTimeout.Seconds())
		for _, ep := range eps {
			ap := ep.AddrPort()
			sep := p.n.endpoint(ap)
			b.start(chain)
			b.commentTo(p.n.name, ap)
			b.WriteString(" -m recent --name ")
			b.WriteString(sep)
			b.WriteString(" --rcheck --seconds ")
			b.Write(strconv.AppendInt(b.num[:0], secs, 10))
			b.WriteString(" --reap")
			b.jump(sep)
			b.end()
		}
	}
	n := len(eps)
	for i, ep := range eps {
		ap := ep.AddrPort()
		sep := ""
		if p.needsChain(ep) {
			sep = p.n.endpoint(ap)
		} else if r.cfg.remoteHairpin {
			b.start(chain)
			b.WriteString(" -s ")
			b.host(ep.IP)
			b.jump(chainMarkMasq)
			b.end()
		}
		b.start(chain)
		if sep != "" {
			b.commentTo(p.n.name, ap)
		}
		if i < n-1 {
			b.WriteString(" -m statistic --mode random --probability ")
			b.WriteString(r.probability(n - i))
		}
		if sep != "" {
			b.jump(sep)
		} else {
			// Only "-p": a bare "-m tcp" is one more xtables match for the kernel
			// to load and walk, and the address is in the target for operators.
			b.WriteString(" -p ")
			b.WriteString(p.n.proto)
			b.WriteString(" -j DNAT --to-destination ")
			b.addrPort(ap)
		}
		b.end()
	}
}

// endpointChains writes the KUBE-SEP- chains of the endpoints that need one: mark
// hairpin traffic, record the client for affinity, DNAT.
func (r *renderer) endpointChains(p *plan, st *serviceState) {
	used := 0
	b := &r.rules
	for _, ep := range p.reachable {
		if !p.needsChain(ep) {
			continue
		}
		used++
		ap := ep.AddrPort()
		sep := p.n.endpoint(ap)
		r.beginChain(st, sep)
		b.start(sep)
		b.comment(p.n.name)
		b.WriteString(" -s ")
		b.host(ep.IP)
		b.jump(chainMarkMasq)
		b.end()
		b.start(sep)
		b.comment(p.n.name)
		if p.sp.AffinityTimeout > 0 {
			b.WriteString(" -m recent --name ")
			b.WriteString(sep)
			b.WriteString(" --set")
		}
		b.proto(p.n.proto)
		b.WriteString(" -j DNAT --to-destination ")
		b.addrPort(ap)
		b.end()
	}
	p.n.trimEndpoints(used)
}

// probability returns 1/n as upstream prints it ("%0.10f").
func (r *renderer) probability(n int) string {
	for len(r.probs) <= n {
		r.probs = append(r.probs, strconv.FormatFloat(1/float64(len(r.probs)), 'f', 10, 64))
	}
	return r.probs[n]
}
