package iptablesmode

import (
	"net/netip"
	"slices"
)

// nodePortsComment is the comment of the jump to KUBE-NODEPORTS, word for word
// upstream's.
const nodePortsComment = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"

// nodePortSpecs renders the shared-chain rules of the node port and the health check
// node port: the nat rule sending node port traffic to KUBE-EXT-, the filter rule
// rejecting or dropping it when no endpoint can take it, and the filter rule
// accepting health checks.
func (r *renderer) nodePortSpecs(p *plan, st *serviceState) {
	sp := p.sp
	b := &r.spec
	if sp.NodePort != 0 && p.any {
		b.comment(p.n.name)
		b.proto(p.n.proto)
		b.dport(sp.NodePort)
		b.jump(p.n.ext)
		st.specs[natNodePorts] = append(st.specs[natNodePorts], b.take())
	}
	if sp.NodePort != 0 && p.externalPolicyChain == "" {
		b.comment2(p.n.name, p.verdictComment)
		b.WriteString(" -m addrtype --dst-type LOCAL")
		b.proto(p.n.proto)
		b.dport(sp.NodePort)
		b.jump(p.externalVerdict)
		st.specs[filterExternal] = append(st.specs[filterExternal], b.take())
	}
	if sp.HealthCheckNodePort != 0 {
		b.comment2(p.n.name, " health check node port")
		b.proto("tcp")
		b.dport(sp.HealthCheckNodePort)
		b.jump("ACCEPT")
		st.specs[filterNodePorts] = append(st.specs[filterNodePorts], b.take())
	}
}

// nodePortJumps writes the last rules of nat KUBE-SERVICES, which send traffic to
// the node's own addresses on to KUBE-NODEPORTS: every local address, or the
// addresses of --nodeport-addresses (ips). Localhost node ports exist only for IPv4
// and only when enabled.
func (r *renderer) nodePortJumps(b *lineBuf, ips []netip.Addr) {
	if r.cfg.nodePortAll {
		b.start(chainServices)
		b.comment(nodePortsComment)
		b.WriteString(" -m addrtype --dst-type LOCAL")
		switch {
		case r.cfg.ipv6:
			b.WriteString(" ! -d ::1/128")
		case !r.cfg.localhostNodePorts:
			b.WriteString(" ! -d 127.0.0.0/8")
		}
		b.jump(chainNodePorts)
		b.end()
		return
	}
	for _, ip := range ips {
		if ip.IsLoopback() && (r.cfg.ipv6 || !r.cfg.localhostNodePorts) {
			continue
		}
		b.start(chainServices)
		b.comment(nodePortsComment)
		b.WriteString(" -d ")
		b.host(ip)
		b.jump(chainNodePorts)
		b.end()
	}
}

// nodePortIPs returns the addresses among local that --nodeport-addresses selects,
// in order and without duplicates; nil when node ports listen on every address.
func (c *config) nodePortIPs(local []netip.Addr) []netip.Addr {
	if c.nodePortAll {
		return nil
	}
	var out []netip.Addr
	for _, ip := range local {
		ip = ip.Unmap()
		if ip.Is4() == c.ipv6 {
			continue
		}
		for _, cidr := range c.nodePortCIDRs {
			if cidr.Contains(ip) {
				out = append(out, ip)
				break
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}
