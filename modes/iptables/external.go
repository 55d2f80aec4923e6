package iptablesmode

import (
	"net/netip"
)

// externalSpecs renders the shared-chain rules of external IPs and load-balancer
// IPs: nat rules sending their traffic to KUBE-EXT- (or KUBE-FW-), filter rules
// rejecting or dropping it when no endpoint can take it, and the filter rules
// dropping what the source ranges did not let in.
func (r *renderer) externalSpecs(p *plan, st *serviceState) {
	sp := p.sp
	for _, ip := range sp.ExternalIPs {
		if p.any {
			r.addressSpec(st, natServices, p, " external IP", ip, p.n.ext)
		}
		if p.externalPolicyChain == "" {
			r.addressSpec(st, filterExternal, p, p.verdictComment, ip, p.externalVerdict)
		}
	}
	for _, ip := range sp.LoadBalancerIPs {
		if p.any {
			r.addressSpec(st, natServices, p, " loadbalancer IP", ip, p.lbChain)
		}
		if p.usesFW {
			r.addressSpec(st, filterFirewall, p, " traffic not accepted by "+p.n.fw, ip, "DROP")
		}
	}
	if p.externalPolicyChain == "" {
		for _, ip := range sp.LoadBalancerIPs {
			r.addressSpec(st, filterExternal, p, p.verdictComment, ip, p.externalVerdict)
		}
	}
}

// addressSpec adds to a shared chain the rule matching the service port on ip:
// `-m comment --comment "<name><what>" -m tcp -p tcp -d ip/32 --dport port -j target`.
func (r *renderer) addressSpec(st *serviceState, c shared, p *plan, what string, ip netip.Addr, target string) {
	b := &r.spec
	b.comment2(p.n.name, what)
	b.proto(p.n.proto)
	b.WriteString(" -d ")
	b.host(ip)
	b.dport(p.sp.Port)
	b.jump(target)
	st.specs[c] = append(st.specs[c], b.take())
}

// externalChain writes KUBE-EXT-, where all traffic to node ports, external IPs and
// load-balancer IPs goes. Under the Cluster policy it is masqueraded (it may leave
// the node). Under the Local policy the client address is kept, except for traffic
// from pods (cluster CIDR) and from the node itself, which is sent to the cluster
// chain as if it had gone out to the load balancer and come back.
func (r *renderer) externalChain(p *plan, st *serviceState) {
	if !p.usesExt {
		return
	}
	ext := p.n.ext
	r.beginChain(st, ext)
	b := &r.rules
	if !p.sp.Policy.ExternalLocal {
		b.start(ext)
		b.comment3("masquerade traffic for ", p.n.name, " external destinations")
		b.jump(chainMarkMasq)
		b.end()
	} else {
		if r.cfg.clusterCIDR.IsValid() && p.clusterChain != "" {
			b.start(ext)
			b.comment3("pod traffic for ", p.n.name, " external destinations")
			if r.cfg.clusterCIDR.Bits() > 0 {
				b.WriteString(" -s ")
				b.prefix(r.cfg.clusterCIDR)
			}
			b.jump(p.clusterChain)
			b.end()
		}
		b.start(ext)
		b.comment3("masquerade LOCAL traffic for ", p.n.name, " external destinations")
		b.WriteString(" -m addrtype --src-type LOCAL")
		b.jump(chainMarkMasq)
		b.end()
		if p.clusterChain != "" {
			b.start(ext)
			b.comment3("route LOCAL traffic for ", p.n.name, " external destinations")
			b.WriteString(" -m addrtype --src-type LOCAL")
			b.jump(p.clusterChain)
			b.end()
		}
	}
	if p.externalPolicyChain != "" {
		b.start(ext)
		b.jump(p.externalPolicyChain)
		b.end()
	}
}

// firewallChain writes KUBE-FW-, which load-balancer traffic goes through when the
// service has source ranges: allowed sources go on to KUBE-EXT-, the rest falls
// through un-DNATed and is dropped by the filter table's KUBE-PROXY-FIREWALL.
func (r *renderer) firewallChain(p *plan, st *serviceState, nodeIPs []netip.Addr) {
	if !p.usesFW {
		return
	}
	fw := p.n.fw
	r.beginChain(st, fw)
	b := &r.rules
	allowNode := false
	for _, cidr := range p.sp.SourceRanges {
		b.start(fw)
		b.comment2(p.n.name, " loadbalancer IP")
		b.WriteString(" -s ")
		b.prefix(cidr)
		b.jump(p.n.ext)
		b.end()
		for _, ip := range nodeIPs {
			allowNode = allowNode || cidr.Contains(ip)
		}
	}
	// A load-balancer IP is often also a local address: the node's own requests to
	// it then arrive with the LB IP as source. Let them in when the node may be.
	if allowNode {
		for _, ip := range p.sp.LoadBalancerIPs {
			b.start(fw)
			b.comment2(p.n.name, " loadbalancer IP")
			b.WriteString(" -s ")
			b.host(ip)
			b.jump(p.n.ext)
			b.end()
		}
	}
	b.start(fw)
	b.comment3("other traffic to ", p.n.name, " will be dropped by KUBE-PROXY-FIREWALL")
	b.end()
}
