package packetflow

import (
	"net/netip"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
)

// Settings are the node facts and backend options a scenario's cases assume.
type Settings struct {
	NodeName string
	// NodeIPs are the node's addresses, where node ports answer.
	NodeIPs []netip.Addr
	// ClusterCIDR is the pod network (--cluster-cidr).
	ClusterCIDR netip.Prefix
	// MasqueradeAll is --masquerade-all.
	MasqueradeAll bool
}

// Scenario is a snapshot, the settings to program it with, and the cases that must
// then hold.
type Scenario struct {
	Family v1.IPFamily
	Settings
	Snapshot *proxy.Snapshot
	Cases    []Case
	// Builder made Snapshot; feed it more objects and take another snapshot to
	// test changes from this state.
	Builder *Builder
}

// Names of the nodes of the standard scenario.
const (
	ThisNode  = "node-a"
	OtherNode = "node-b"
)

// Standard returns kproxy's main packet-flow scenario for family: a dozen services
// covering cluster IPs, node ports, external and load-balancer IPs, source ranges,
// both traffic policies, session affinity, UDP, hairpin and services without
// endpoints, seen from pods, from the node and from outside the cluster.
func Standard(family v1.IPFamily, masqueradeAll bool) Scenario {
	a := Addresses{Family: family}
	s := Scenario{Family: family, Settings: Settings{
		NodeName:      ThisNode,
		NodeIPs:       []netip.Addr{a.IP("192.168.0.10")},
		ClusterCIDR:   a.Prefix("10.0.0.0/16"),
		MasqueradeAll: masqueradeAll,
	}}
	s.Builder = NewStandardBuilder(family)
	s.Snapshot, _ = s.Builder.Snapshot(family)
	s.Cases = standardCases(a, masqueradeAll)
	return s
}

// NewStandardBuilder returns a Builder fed with the node, Services and
// EndpointSlices of Standard, not applied yet.
func NewStandardBuilder(family v1.IPFamily) *Builder {
	a := Addresses{Family: family}
	b := NewBuilder(ThisNode).Node("", a.String("192.168.0.10"))
	for _, svc := range standardServices(a) {
		svc.add(b, a, family)
	}
	return b
}

// fixture is one service of a scenario and its endpoints (on ThisNode when local).
type fixture struct {
	ns, name, clusterIP string
	proto               v1.Protocol
	port, nodePort      int32
	targetPort          int32
	opts                []ServiceOpt
	local, remote       []string
}

// add feeds the fixture's Service and EndpointSlice to b.
func (f fixture) add(b *Builder, a Addresses, family v1.IPFamily) {
	proto := f.proto
	if proto == "" {
		proto = v1.ProtocolTCP
	}
	opts := append([]ServiceOpt{Port("p", proto, f.port, f.nodePort)}, f.opts...)
	b.Service(NewService(f.ns, f.name, a.String(f.clusterIP), opts...))
	var eps []Endpoint
	for _, ip := range f.local {
		eps = append(eps, Endpoint{IP: a.String(ip), Node: ThisNode})
	}
	for _, ip := range f.remote {
		eps = append(eps, Endpoint{IP: a.String(ip), Node: OtherNode})
	}
	if len(eps) > 0 {
		b.Slice(NewSlice(f.ns, f.name, f.name+"-1", family, "p", proto, f.targetPort, eps...))
	}
}

// standardServices are the services of Standard; addresses are in IPv4 form.
func standardServices(a Addresses) []fixture {
	return []fixture{
		{ns: "ns1", name: "svc1", clusterIP: "172.30.0.41", port: 80, targetPort: 8080,
			local: []string{"10.0.1.1"}, remote: []string{"10.0.2.1", "10.0.2.2"}},
		{ns: "ns2", name: "svc2", clusterIP: "172.30.0.42", port: 80, nodePort: 3002, targetPort: 80},
		{ns: "ns3", name: "svc3", clusterIP: "172.30.0.43", port: 80, nodePort: 3003, targetPort: 80,
			local: []string{"10.0.1.3"}, remote: []string{"10.0.2.3"}},
		{ns: "ns4", name: "svc4", clusterIP: "172.30.0.44", port: 80, nodePort: 3004, targetPort: 80,
			opts: []ServiceOpt{ExternalLocal(30004)}, local: []string{"10.0.1.4"}, remote: []string{"10.0.2.4"}},
		{ns: "ns5", name: "svc5", clusterIP: "172.30.0.45", port: 80, nodePort: 3005, targetPort: 80,
			opts: []ServiceOpt{ExternalLocal(30005)}, remote: []string{"10.0.2.5"}},
		{ns: "ns6", name: "svc6", clusterIP: "172.30.0.46", port: 80, targetPort: 80,
			opts: []ServiceOpt{ExternalIPs(a.String("192.168.99.11"))}, remote: []string{"10.0.2.6"}},
		{ns: "ns7", name: "svc7", clusterIP: "172.30.0.47", port: 80, nodePort: 3007, targetPort: 80,
			opts:   []ServiceOpt{LoadBalancer([]string{a.String("5.6.7.8")}, a.Prefix("203.0.113.0/24").String())},
			remote: []string{"10.0.2.7"}},
		{ns: "ns8", name: "svc8", clusterIP: "172.30.0.48", port: 80, targetPort: 80,
			opts: []ServiceOpt{Affinity(10800)}, local: []string{"10.0.1.8"}, remote: []string{"10.0.2.8"}},
		{ns: "ns9", name: "svc9", clusterIP: "172.30.0.49", proto: v1.ProtocolUDP, port: 53, targetPort: 53,
			local: []string{"10.0.1.9"}, remote: []string{"10.0.2.9"}},
		{ns: "ns10", name: "svc10", clusterIP: "172.30.0.50", port: 80, targetPort: 80,
			opts: []ServiceOpt{InternalLocal()}, local: []string{"10.0.1.10"}, remote: []string{"10.0.2.10"}},
		{ns: "ns11", name: "svc11", clusterIP: "172.30.0.51", port: 80, targetPort: 80,
			opts: []ServiceOpt{InternalLocal()}, remote: []string{"10.0.2.11"}},
		{ns: "ns12", name: "svc12", clusterIP: "172.30.0.52", port: 80, nodePort: 3012, targetPort: 80,
			opts:  []ServiceOpt{LoadBalancer([]string{a.String("5.6.7.9")}), ExternalLocal(30012)},
			local: []string{"10.0.1.12"}, remote: []string{"10.0.2.12"}},
	}
}
