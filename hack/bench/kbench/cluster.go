package main

import (
	"fmt"
	"net/netip"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// clusterCIDR is the pod network of the benchmark cluster; every endpoint is in it.
var clusterCIDR = netip.MustParsePrefix("10.0.0.0/8")

// cluster is the benchmark's cluster, fed through the real proxy.Table: services
// services with one TCP port each and eps endpoints, one service in ten with a
// node port, one endpoint in a hundred on this node (the scenario of
// modes/iptables/bench_test.go).
type cluster struct {
	b        *packetflow.Builder
	services int
	eps      int
	moved    map[int]int // service index -> id of the address its last endpoint moved to
	next     int         // the next such id
}

// newCluster builds the cluster.
func newCluster(services, eps int) *cluster {
	c := &cluster{b: packetflow.NewBuilder(packetflow.ThisNode).Node("", "192.168.0.10"), services: services, eps: eps, moved: map[int]int{}}
	for i := range services {
		nodePort := int32(0)
		if i%10 == 0 {
			nodePort = int32(30000 + i/10)
		}
		c.b.Service(packetflow.NewService("ns", serviceName(i), fmt.Sprintf("172.30.%d.%d", i/250, i%250+1),
			packetflow.Port("p", v1.ProtocolTCP, 80, nodePort)))
		c.slice(i)
	}
	return c
}

// serviceName is the name of service i.
func serviceName(i int) string { return fmt.Sprintf("svc%05d", i) }

// slice writes service i's EndpointSlice for its current generation.
func (c *cluster) slice(i int) {
	name := serviceName(i)
	c.b.Slice(packetflow.NewSlice("ns", name, name+"-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, c.endpoints(i)...))
}

// endpoints returns service i's endpoints; once moved, the last one has a new
// address, as a rescheduled pod has.
func (c *cluster) endpoints(i int) []packetflow.Endpoint {
	out := make([]packetflow.Endpoint, c.eps)
	for k := range out {
		id := i*c.eps + k
		node := packetflow.OtherNode
		if id%100 == 0 {
			node = packetflow.ThisNode
		}
		ip := endpointIP(id)
		if g, ok := c.moved[i]; ok && k == c.eps-1 {
			ip = fmt.Sprintf("10.%d.%d.%d", 100+g/65536, g/256%256, g%256)
		}
		out[k] = packetflow.Endpoint{IP: ip, Node: node}
	}
	return out
}

// endpointIP is the address of endpoint id (service i's k-th is i*eps+k), in
// 10.1.0.0-10.99.255.255; moved endpoints get addresses from 10.100.0.0 on.
func endpointIP(id int) string {
	return fmt.Sprintf("10.%d.%d.%d", 1+id/65536, id/256%256, id%256)
}

// changeEndpoint moves the last endpoint of service i to a new address.
func (c *cluster) changeEndpoint(i int) {
	c.moved[i] = c.next
	c.next++
	c.slice(i)
}

// snapshot returns the IPv4 snapshot and what changed since the previous one.
func (c *cluster) snapshot() (*proxy.Snapshot, proxy.Changes) {
	return c.b.Snapshot(v1.IPv4Protocol)
}
