package ipvsmode

import (
	"net/netip"
	"slices"
	"strings"
	"syscall"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/endpoints"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/ipset"
)

// vsKey identifies a virtual server: protocol number, address and port.
type vsKey struct {
	proto uint16
	addr  netip.Addr
	port  uint16
}

// String prints the key as "TCP 10.0.0.1:80".
func (k vsKey) String() string {
	return protoName(k.proto) + " " + netip.AddrPortFrom(k.addr, k.port).String()
}

// vserver is a virtual server as one service port wants it.
type vserver struct {
	key     vsKey
	flags   uint32
	timeout uint32
	dests   []netip.AddrPort // sorted, without duplicates
}

// setEntry is one entry of one ipset.
type setEntry struct {
	set   setID
	entry string
}

// outFilter is a load-balancer IP and port the node itself must not reach, because
// its source ranges leave the node out.
type outFilter struct {
	addr  netip.Addr
	proto string
	port  uint16
}

// portPlan is what one service port asks of the kernel.
type portPlan struct {
	vservers   []vserver
	entries    []setEntry
	binds      []netip.Addr // addresses to bind to kube-ipvs0
	outFilters []outFilter
}

// planEnv is what plans depend on beyond the service: the node's addresses.
type planEnv struct {
	// nodePortIPs are the addresses node ports answer on.
	nodePortIPs []netip.Addr
	// nodeAddrs are the node's own addresses (not those on kube-ipvs0): external
	// and load-balancer IPs among them are not bound again.
	nodeAddrs []netip.Addr
}

// planner builds port plans; it reuses nothing between calls and is safe to copy.
type planner struct {
	c   *config
	env *planEnv
}

// plan returns what one service port wants.
func (pl planner) plan(svc *proxy.Service) *portPlan {
	p := &portPlan{}
	proto := strings.ToLower(string(svc.Protocol()))
	pnum := protoNumber(svc.Protocol())
	if pnum == 0 {
		return p
	}
	internal, external := pl.destinations(svc)
	pl.loopBack(p, svc, proto)
	cluster := pl.vs(svc, vsKey{pnum, svc.ClusterIP, svc.Port}, internal)
	p.add(cluster, true)
	p.entries = append(p.entries, setEntry{setClusterIP, ipset.IPPort(svc.ClusterIP, proto, svc.Port)})
	for _, ip := range pl.family(svc.ExternalIPs) {
		set := setExternalIP
		if svc.Policy.ExternalLocal {
			set = setExternalIPLocal
		}
		p.entries = append(p.entries, setEntry{set, ipset.IPPort(ip, proto, svc.Port)})
		p.add(pl.vs(svc, vsKey{pnum, ip, svc.Port}, external), !pl.isNodeAddr(ip))
	}
	for _, ip := range pl.family(svc.LoadBalancerIPs) {
		pl.loadBalancer(p, svc, ip, proto)
		p.add(pl.vs(svc, vsKey{pnum, ip, svc.Port}, external), !pl.isNodeAddr(ip))
	}
	if svc.NodePort != 0 {
		pl.nodePort(p, svc, proto, pnum, external)
	}
	if svc.HealthCheckNodePort != 0 {
		p.entries = append(p.entries, setEntry{setHealthCheckNodePort, ipset.Port(svc.HealthCheckNodePort)})
	}
	return p
}

// destinations returns the real servers of the cluster IP (internal traffic) and
// of the node port, external and load-balancer addresses (external traffic). A
// Local policy uses this node's endpoints; when there are none it falls back to
// the endpoints of Cluster traffic, if the service has any, as upstream does
// (kubernetes#97081): IPVS cannot tell pods from outside clients apart, and this
// keeps the service reachable from the node's pods.
func (pl planner) destinations(svc *proxy.Service) (internal, external []netip.AddrPort) {
	sel := svc.Endpoints
	var cluster, local []netip.AddrPort
	pick := func(isLocal bool) []netip.AddrPort {
		if isLocal && len(sel.Local) > 0 {
			if local == nil {
				local = addrPorts(sel.Local)
			}
			return local
		}
		if cluster == nil {
			cluster = addrPorts(sel.Cluster)
		}
		return cluster
	}
	return pick(svc.Policy.InternalLocal), pick(svc.Policy.ExternalLocal)
}

// loopBack adds the hairpin entries: a local endpoint reaching itself through the
// service is masqueraded.
func (pl planner) loopBack(p *portPlan, svc *proxy.Service, proto string) {
	for _, ep := range svc.All {
		if ep.Local && pl.c.isFamily(ep.IP) {
			p.entries = append(p.entries, setEntry{setLoopBack, ipset.IPPortIP(ep.IP, proto, ep.Port, ep.IP)})
		}
	}
}

// loadBalancer adds the entries of one load-balancer IP.
func (pl planner) loadBalancer(p *portPlan, svc *proxy.Service, ip netip.Addr, proto string) {
	entry := ipset.IPPort(ip, proto, svc.Port)
	p.entries = append(p.entries, setEntry{setLoadBalancer, entry})
	if svc.Policy.ExternalLocal {
		p.entries = append(p.entries, setEntry{setLoadBalancerLocal, entry})
	}
	if svc.SourceRanges == nil {
		return
	}
	p.entries = append(p.entries, setEntry{setLoadBalancerFW, entry})
	fromNode := false
	for _, r := range svc.SourceRanges {
		if r.Addr().Is6() != pl.c.ipv6 {
			continue
		}
		fromNode = fromNode || slices.ContainsFunc(pl.env.nodeAddrs, r.Contains)
		if r.Bits() == 0 {
			r = netip.PrefixFrom(r.Addr(), 1) // a hash:net cannot hold /0: two halves
			p.entries = append(p.entries, setEntry{setLoadBalancerSourceCIDR,
				ipset.IPPortNet(ip, proto, svc.Port, otherHalf(r))})
		}
		p.entries = append(p.entries, setEntry{setLoadBalancerSourceCIDR, ipset.IPPortNet(ip, proto, svc.Port, r)})
	}
	if fromNode {
		// The node reaches an address of its own from that address.
		p.entries = append(p.entries, setEntry{setLoadBalancerSourceIP, ipset.IPPortIP(ip, proto, svc.Port, ip)})
	} else {
		p.outFilters = append(p.outFilters, outFilter{ip, proto, svc.Port})
	}
}

// nodePort adds the entries and virtual servers of the node port.
func (pl planner) nodePort(p *portPlan, svc *proxy.Service, proto string, pnum uint16, dests []netip.AddrPort) {
	all, local := setNodePortTCP, setNodePortLocalTCP
	switch svc.Protocol() {
	case v1.ProtocolUDP:
		all, local = setNodePortUDP, setNodePortLocalUDP
	case v1.ProtocolSCTP:
		all, local = setNodePortSCTP, setNodePortLocalSCTP
	}
	var entries []string
	if svc.Protocol() == v1.ProtocolSCTP {
		for _, ip := range pl.env.nodePortIPs {
			entries = append(entries, ipset.IPPort(ip, proto, svc.NodePort))
		}
	} else {
		entries = []string{ipset.Port(svc.NodePort)}
	}
	for _, e := range entries {
		p.entries = append(p.entries, setEntry{all, e})
		if svc.Policy.ExternalLocal {
			p.entries = append(p.entries, setEntry{local, e})
		}
	}
	for _, ip := range pl.env.nodePortIPs {
		p.add(pl.vs(svc, vsKey{pnum, ip, svc.NodePort}, dests), false)
	}
}

// vs builds one virtual server of the service.
func (pl planner) vs(svc *proxy.Service, key vsKey, dests []netip.AddrPort) vserver {
	v := vserver{key: key, dests: dests}
	if svc.AffinityTimeout > 0 {
		v.flags |= FlagPersistent
		v.timeout = uint32(min(svc.AffinityTimeout.Seconds(), float64(^uint32(0))))
	}
	if pl.c.scheduler == "mh" {
		v.flags |= FlagSchedPort
	}
	return v
}

// add records a virtual server and, when bind, its address for kube-ipvs0 and
// KUBE-IPVS-IPS.
func (p *portPlan) add(v vserver, bind bool) {
	p.vservers = append(p.vservers, v)
	if bind && !slices.Contains(p.binds, v.key.addr) {
		p.binds = append(p.binds, v.key.addr)
		p.entries = append(p.entries, setEntry{setIPVSIPs, ipset.IP(v.key.addr)})
	}
}

// family keeps the addresses of the planner's family.
func (pl planner) family(ips []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if pl.c.isFamily(ip) {
			out = append(out, ip)
		}
	}
	return out
}

func (pl planner) isNodeAddr(ip netip.Addr) bool { return slices.Contains(pl.env.nodeAddrs, ip) }

// addrPorts returns the endpoints' addresses sorted and without duplicates (the
// table gives them so already; this only checks).
func addrPorts(eps []endpoints.Endpoint) []netip.AddrPort {
	if len(eps) == 0 {
		return nil
	}
	out := make([]netip.AddrPort, len(eps))
	sorted := true
	for i, e := range eps {
		out[i] = e.AddrPort()
		sorted = sorted && (i == 0 || out[i-1].Compare(out[i]) < 0)
	}
	if !sorted {
		slices.SortFunc(out, netip.AddrPort.Compare)
		out = slices.Compact(out)
	}
	return out
}

// otherHalf returns the /1 next to p, a /1 of address 0.
func otherHalf(p netip.Prefix) netip.Prefix {
	b := p.Addr().AsSlice()
	b[0] |= 0x80
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, 1)
}

func protoNumber(p v1.Protocol) uint16 {
	switch p {
	case v1.ProtocolTCP:
		return syscall.IPPROTO_TCP
	case v1.ProtocolUDP:
		return syscall.IPPROTO_UDP
	case v1.ProtocolSCTP:
		return syscall.IPPROTO_SCTP
	}
	return 0
}

func protoName(p uint16) string {
	switch p {
	case syscall.IPPROTO_TCP:
		return "TCP"
	case syscall.IPPROTO_UDP:
		return "UDP"
	case syscall.IPPROTO_SCTP:
		return "SCTP"
	}
	return "?"
}
