package ipvsmode

import (
	"strings"

	"github.com/kproxy/kproxy/proxy/ipset"
)

// setID names one of the ipsets the mode keeps.
type setID uint8

// The ipsets, as upstream names them (IPv6 ones start with KUBE-6-).
const (
	setLoopBack setID = iota
	setClusterIP
	setExternalIP
	setExternalIPLocal
	setLoadBalancer
	setLoadBalancerLocal
	setLoadBalancerFW
	setLoadBalancerSourceIP
	setLoadBalancerSourceCIDR
	setNodePortTCP
	setNodePortLocalTCP
	setNodePortUDP
	setNodePortLocalUDP
	setNodePortSCTP
	setNodePortLocalSCTP
	setHealthCheckNodePort
	setIPVSIPs
	numSets
)

// setInfo describes one ipset.
type setInfo struct {
	name    string
	typ     ipset.Type
	comment string // the comment of the iptables rules matching it
}

var setInfos = [numSets]setInfo{
	setLoopBack:               {"KUBE-LOOP-BACK", ipset.HashIPPortIP, "hairpin: endpoint ip, port and source ip"},
	setClusterIP:              {"KUBE-CLUSTER-IP", ipset.HashIPPort, "service cluster ip and port"},
	setExternalIP:             {"KUBE-EXTERNAL-IP", ipset.HashIPPort, "service external ip and port"},
	setExternalIPLocal:        {"KUBE-EXTERNAL-IP-LOCAL", ipset.HashIPPort, "service external ip and port, externalTrafficPolicy=Local"},
	setLoadBalancer:           {"KUBE-LOAD-BALANCER", ipset.HashIPPort, "service load-balancer ip and port"},
	setLoadBalancerLocal:      {"KUBE-LOAD-BALANCER-LOCAL", ipset.HashIPPort, "service load-balancer ip and port, externalTrafficPolicy=Local"},
	setLoadBalancerFW:         {"KUBE-LOAD-BALANCER-FW", ipset.HashIPPort, "service load-balancer ip and port with source ranges"},
	setLoadBalancerSourceIP:   {"KUBE-LOAD-BALANCER-SOURCE-IP", ipset.HashIPPortIP, "load-balancer ip and port reached from the node itself"},
	setLoadBalancerSourceCIDR: {"KUBE-LOAD-BALANCER-SOURCE-CIDR", ipset.HashIPPortNet, "load-balancer ip and port and allowed source range"},
	setNodePortTCP:            {"KUBE-NODE-PORT-TCP", ipset.BitmapPort, "TCP node port"},
	setNodePortLocalTCP:       {"KUBE-NODE-PORT-LOCAL-TCP", ipset.BitmapPort, "TCP node port, externalTrafficPolicy=Local"},
	setNodePortUDP:            {"KUBE-NODE-PORT-UDP", ipset.BitmapPort, "UDP node port"},
	setNodePortLocalUDP:       {"KUBE-NODE-PORT-LOCAL-UDP", ipset.BitmapPort, "UDP node port, externalTrafficPolicy=Local"},
	setNodePortSCTP:           {"KUBE-NODE-PORT-SCTP-HASH", ipset.HashIPPort, "SCTP node address and node port"},
	setNodePortLocalSCTP:      {"KUBE-NODE-PORT-LOCAL-SCTP-HASH", ipset.HashIPPort, "SCTP node address and node port, externalTrafficPolicy=Local"},
	setHealthCheckNodePort:    {"KUBE-HEALTH-CHECK-NODE-PORT", ipset.BitmapPort, "health check node port"},
	setIPVSIPs:                {"KUBE-IPVS-IPS", ipset.HashIP, "addresses bound to kube-ipvs0"},
}

// setNames holds the sets of one family.
type setNames [numSets]ipset.Set

// newSetNames returns the sets of a family. IPv6 sets are named KUBE-6-..., cut to
// the kernel's 31 characters, as upstream names them so both families coexist.
func newSetNames(ipv6 bool) setNames {
	var s setNames
	for id, info := range setInfos {
		name, family := info.name, ipset.Inet
		if ipv6 {
			family = ipset.Inet6
			name = "KUBE-6-" + strings.TrimPrefix(name, "KUBE-")
			if len(name) > ipset.MaxNameLen {
				name = name[:ipset.MaxNameLen]
			}
		}
		s[id] = ipset.Set{Name: name, Type: info.typ, Family: family}.Normalize()
	}
	return s
}

// name returns the kernel name of a set.
func (s *setNames) name(id setID) string { return s[id].Name }

// SetNames returns the names of the ipsets of family v6 or v4, in a fixed order,
// for tests and cleanup tools.
func SetNames(ipv6 bool) []string {
	s := newSetNames(ipv6)
	out := make([]string, numSets)
	for i := range s {
		out[i] = s[i].Name
	}
	return out
}
