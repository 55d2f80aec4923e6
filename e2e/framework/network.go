package framework

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/kproxy/kproxy/e2e/netns"
)

// nodeSysctls are set in every node namespace before its links exist, so
// the "default" values reach them too. Without ICMP redirects, a node never
// tells a pod to reach a neighbour pod directly: pod-to-pod traffic on one
// node keeps crossing the node's IP layer, where conntrack sees it both ways.
var nodeSysctls = [][2]string{
	{"net/ipv4/ip_forward", "1"},
	{"net/ipv4/conf/all/send_redirects", "0"},
	{"net/ipv4/conf/default/send_redirects", "0"},
}

// buildFabric creates the fabric namespace and its bridge br0 (10.200.0.1/24).
// IP forwarding stays off there: traffic for unknown destinations that
// leaves the cluster is dropped, as by a firewall.
func (c *Cluster) buildFabric() error {
	if err := addNetns(c.FabricNS); err != nil {
		return err
	}
	return ipBatch(c.FabricNS,
		"link add br0 type bridge",
		"addr add "+withLen(FabricIP(), fabricPrefixLen)+" dev br0",
		"link set br0 up",
	)
}

// plugIntoFabric creates a veth pair from the fabric bridge (port name
// `port`) to eth0 in ns, and gives eth0 ip on the fabric subnet.
func (c *Cluster) plugIntoFabric(ns, port string, ip netip.Addr) error {
	if err := ipBatch(c.FabricNS,
		"link add "+port+" type veth peer name eth0 netns "+ns,
		"link set "+port+" master br0",
		"link set "+port+" up",
	); err != nil {
		return err
	}
	return ipBatch(ns,
		"addr add "+withLen(ip, fabricPrefixLen)+" dev eth0",
		"link set eth0 up",
	)
}

// buildNodes wires every node: fabric link with a default route to the
// fabric (as real nodes have one), pod bridge cbr0, routes to the other
// nodes' pod CIDRs, IP forwarding. The fabric routes pod CIDRs too, as a
// control-plane host of a real cluster would.
func (c *Cluster) buildNodes() error {
	var fabricRoutes []string
	for _, n := range c.Nodes {
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return err
		}
		if err := addNetns(n.NS); err != nil {
			return err
		}
		for _, kv := range nodeSysctls {
			if err := setSysctl(n.NS, kv[0], kv[1]); err != nil {
				return err
			}
		}
		if err := c.plugIntoFabric(n.NS, fmt.Sprintf("n%d", n.Index), n.IP); err != nil {
			return err
		}
		cmds := []string{
			"route add default via " + FabricIP().String(),
			"link add cbr0 type bridge",
			"addr add " + withLen(n.PodGateway, n.PodCIDR.Bits()) + " dev cbr0",
			"link set cbr0 up",
		}
		for _, peer := range c.Nodes {
			if peer != n {
				cmds = append(cmds, "route add "+peer.PodCIDR.String()+" via "+peer.IP.String())
			}
		}
		if err := ipBatch(n.NS, cmds...); err != nil {
			return err
		}
		fabricRoutes = append(fabricRoutes, "route add "+n.PodCIDR.String()+" via "+n.IP.String())
	}
	return ipBatch(c.FabricNS, fabricRoutes...)
}

// buildClients plugs every client into the fabric. Clients get no default
// route: they reach node IPs only (AddRoute gives them more).
func (c *Cluster) buildClients() error {
	for j, cl := range c.Clients {
		if err := addNetns(cl.NS); err != nil {
			return err
		}
		if err := c.plugIntoFabric(cl.NS, fmt.Sprintf("c%d", j+1), cl.IP); err != nil {
			return err
		}
	}
	return nil
}

// setSysctl writes a sysctl (path under /proc/sys, with slashes) inside ns.
func setSysctl(ns, key, value string) error {
	return netns.Do(ns, func() error {
		return os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644)
	})
}
