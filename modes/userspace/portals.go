package userspace

import (
	"net/netip"
	"strconv"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// portalConfig is what rendering needs besides the service ports.
type portalConfig struct {
	// bind is where listeners listen; bindAny when it is every address.
	bind    netip.Addr
	bindAny bool
	// hostIP is the node address the node's own traffic is DNATed to when bindAny;
	// invalid when the node has no address of the family, and REDIRECT is used.
	hostIP netip.Addr
	// clusterCIDR is the pod network, invalid when unknown.
	clusterCIDR netip.Prefix
	// nodePortCIDRs are the --nodeport-addresses ranges: node ports answer on
	// the local addresses inside them only; nil: on every local address.
	nodePortCIDRs []netip.Prefix
}

// portal is one service port and the ports of its listeners.
type portal struct {
	svc *proxy.Service
	// internal is the listener of internal traffic (never 0).
	internal int
	// external is the listener of external traffic: equal to internal when they
	// share one, 0 when it could not be opened (external portals are left out).
	external int
}

// renderPortals writes the mode's chains and every portal rule into p: a pure
// function of its arguments, emitting portals in the order given. Every chain is
// declared, so applying p replaces what the chains held.
func renderPortals(p *iptables.Payload, cfg portalConfig, portals []portal) {
	for _, c := range chains() {
		p.Chain(c.table, c.name)
	}
	r := portalRenderer{p: p, cfg: cfg}
	for _, pt := range portals {
		r.service(pt)
	}
}

// portalRenderer writes the rules of one payload, reusing its argument buffer.
type portalRenderer struct {
	p    *iptables.Payload
	cfg  portalConfig
	args []string
	svc  *proxy.Service
}

// service writes the portals of one service port. Traffic to the cluster IP goes
// to the internal listener, traffic to node ports, external and load-balancer IPs
// to the external one, except that for an externalTrafficPolicy Local service
// the node's own traffic, and pods' traffic when the cluster CIDR is known, are
// internal traffic, as in the iptables mode.
func (r *portalRenderer) service(pt portal) {
	svc := pt.svc
	r.svc = svc
	in, ext := pt.internal, pt.external
	if svc.ClusterIP.IsValid() {
		r.rule(chainPortalsContainer, netip.Prefix{}, hostPrefix(svc.ClusterIP), int(svc.Port), r.container(in))
		r.rule(chainPortalsHost, netip.Prefix{}, hostPrefix(svc.ClusterIP), int(svc.Port), r.host(in))
	}
	if ext == 0 {
		return
	}
	hostExt, podsIn := ext, netip.Prefix{}
	if svc.Policy.ExternalLocal {
		hostExt = in
		if in != ext {
			podsIn = r.cfg.clusterCIDR
		}
	}
	for _, ip := range svc.ExternalIPs {
		r.external(ip, nil, podsIn, in, ext, hostExt)
	}
	if svc.SourceRanges == nil || len(svc.SourceRanges) > 0 {
		for _, ip := range svc.LoadBalancerIPs {
			r.external(ip, svc.SourceRanges, podsIn, in, ext, hostExt)
		}
	}
	if svc.NodePort != 0 {
		r.nodePort(int(svc.NodePort), podsIn, in, ext, hostExt)
	}
}

// external writes the portals of one external or load-balancer IP, for the
// sources in ranges (nil: any source). pods, when valid, is the pod network
// whose traffic goes to the internal listener.
func (r *portalRenderer) external(ip netip.Addr, ranges []netip.Prefix, pods netip.Prefix, in, ext, hostExt int) {
	port, dst := int(r.svc.Port), hostPrefix(ip)
	if pods.IsValid() && ranges == nil {
		r.rule(chainPortalsContainer, pods, dst, port, r.container(in))
	}
	if ranges == nil {
		ranges = []netip.Prefix{{}}
	}
	for _, src := range ranges {
		r.rule(chainPortalsContainer, src, dst, port, r.container(ext))
	}
	for _, src := range ranges {
		r.rule(chainPortalsHost, src, dst, port, r.host(hostExt))
	}
}

// nodePort writes the portals of a node port and the rules accepting its
// traffic in the filter table. The jumps to the node port chains match local
// destinations only; with --nodeport-addresses each portal is written once per
// range, so that only the local addresses inside the ranges answer.
func (r *portalRenderer) nodePort(nodePort int, pods netip.Prefix, in, ext, hostExt int) {
	dsts := r.cfg.nodePortCIDRs
	if dsts == nil {
		dsts = []netip.Prefix{{}}
	}
	for _, dst := range dsts {
		if pods.IsValid() {
			r.rule(chainNodePortContainer, pods, dst, nodePort, r.container(in))
		}
		r.rule(chainNodePortContainer, netip.Prefix{}, dst, nodePort, r.container(ext))
	}
	for _, dst := range dsts {
		r.rule(chainNodePortHost, netip.Prefix{}, dst, nodePort, r.host(hostExt))
	}
	accept := []string{"-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT"}
	r.ruleIn(iptables.TableFilter, chainNodePortNonLocal, netip.Prefix{}, netip.Prefix{}, ext, accept)
	if pods.IsValid() {
		r.ruleIn(iptables.TableFilter, chainNodePortNonLocal, netip.Prefix{}, netip.Prefix{}, in, accept)
	}
}

// container returns the target sending traffic that arrives at the node to a
// listener: REDIRECT to the port on the address it arrived at when listening on
// every address, else DNAT to the bind address.
func (r *portalRenderer) container(port int) []string {
	if r.cfg.bindAny {
		return []string{"-j", "REDIRECT", "--to-ports", strconv.Itoa(port)}
	}
	return r.dnat(r.cfg.bind, port)
}

// host returns the target sending the node's own traffic to a listener: DNAT to
// a node address (REDIRECT, which means loopback, when the node has none) when
// listening on every address, else DNAT to the bind address.
func (r *portalRenderer) host(port int) []string {
	switch {
	case !r.cfg.bindAny:
		return r.dnat(r.cfg.bind, port)
	case r.cfg.hostIP.IsValid():
		return r.dnat(r.cfg.hostIP, port)
	}
	return []string{"-j", "REDIRECT", "--to-ports", strconv.Itoa(port)}
}

func (r *portalRenderer) dnat(a netip.Addr, port int) []string {
	return []string{"-j", "DNAT", "--to-destination", netip.AddrPortFrom(a, uint16(port)).String()}
}

// rule writes one nat portal rule.
func (r *portalRenderer) rule(chain string, src, dst netip.Prefix, dport int, target []string) {
	r.ruleIn(iptables.TableNAT, chain, src, dst, dport, target)
}

// hostPrefix returns the single-address prefix of ip, or no prefix when ip is
// invalid.
func hostPrefix(ip netip.Addr) netip.Prefix {
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// ruleIn writes "[-s src] [-d dst] -p proto -m comment --comment name -m proto
// --dport dport target" in the order iptables-save prints.
func (r *portalRenderer) ruleIn(t iptables.Table, chain string, src, dst netip.Prefix, dport int, target []string) {
	a := r.args[:0]
	if src.IsValid() {
		a = append(a, "-s", src.String())
	}
	if dst.IsValid() {
		a = append(a, "-d", dst.String())
	}
	proto := protoName(r.svc.Protocol())
	a = append(a, "-p", proto, "-m", "comment", "--comment", r.svc.Name.String(),
		"-m", proto, "--dport", strconv.Itoa(dport))
	a = append(a, target...)
	r.p.Rule(t, chain, a...)
	r.args = a
}

// protoName returns the iptables name of a protocol the mode proxies.
func protoName(p v1.Protocol) string {
	if p == v1.ProtocolUDP {
		return "udp"
	}
	return "tcp"
}
