package proxy

import (
	"net/netip"
	"slices"
	"sync"

	v1 "k8s.io/api/core/v1"
)

// NodeTracker keeps the latest state of kproxy's own Node object. It is safe for
// concurrent use.
type NodeTracker struct {
	mu      sync.Mutex
	latest  nodeInfo
	applied nodeInfo
}

// NewNodeTracker returns a tracker for the node named name.
func NewNodeTracker(name string) *NodeTracker {
	info := nodeInfo{name: name}
	return &NodeTracker{latest: info, applied: info}
}

// Update records the Node as it now is (nil when deleted). It returns whether the zone
// or addresses differ from what the table last applied.
func (t *NodeTracker) Update(node *v1.Node) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	info := nodeInfo{name: t.latest.name}
	if node != nil {
		info.zone = node.Labels[v1.LabelTopologyZone]
		info.ips = nodeIPs(node)
	}
	t.latest = info
	return !info.equal(t.applied)
}

// apply hands over the latest node state and whether it changed since the last apply.
func (t *NodeTracker) apply() (nodeInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := !t.latest.equal(t.applied)
	t.applied = t.latest
	return t.latest, changed
}

// nodeIPs returns the node's internal addresses, then its external ones, skipping
// duplicates and anything that is not an IP.
func nodeIPs(node *v1.Node) []netip.Addr {
	var out []netip.Addr
	for _, kind := range []v1.NodeAddressType{v1.NodeInternalIP, v1.NodeExternalIP} {
		for _, a := range node.Status.Addresses {
			if a.Type != kind {
				continue
			}
			ip, err := parseIP(a.Address)
			if err == nil && !slices.Contains(out, ip) {
				out = append(out, ip)
			}
		}
	}
	return out
}

// equal compares two node states.
func (n nodeInfo) equal(o nodeInfo) bool {
	return n.name == o.name && n.zone == o.zone && slices.Equal(n.ips, o.ips)
}
