package iptablesmode

import (
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack"
)

// staleFlows returns the flows to clear after a sync changed one UDP service port
// from old to now (either may be nil: added, removed). Like upstream it clears
// every flow to the service's addresses when it gains its first endpoint or goes
// away, and the flows DNATed to each endpoint it lost.
func staleFlows(old, now *proxy.Service, flows []conntrack.StaleFlow) []conntrack.StaleFlow {
	if (old == nil || old.Protocol() != v1.ProtocolUDP) && (now == nil || now.Protocol() != v1.ProtocolUDP) {
		return flows
	}
	var oldEPs, newEPs []netip.Addr
	if old != nil {
		oldEPs = endpointIPs(old)
	}
	if now != nil {
		newEPs = endpointIPs(now)
	}
	switch {
	case now == nil || now.Protocol() != v1.ProtocolUDP:
		return serviceFlows(old, netip.Addr{}, flows)
	case len(oldEPs) == 0 && len(newEPs) > 0:
		return serviceFlows(now, netip.Addr{}, flows)
	}
	for _, ep := range oldEPs {
		if !slices.Contains(newEPs, ep) {
			flows = serviceFlows(old, ep, flows)
		}
	}
	return flows
}

// serviceFlows appends a flow per address of sp (cluster IP, external IPs,
// load-balancer IPs, node port), limited to endpoint ep when valid.
func serviceFlows(sp *proxy.Service, ep netip.Addr, flows []conntrack.StaleFlow) []conntrack.StaleFlow {
	add := func(dst netip.Addr, port uint16) {
		flows = append(flows, conntrack.StaleFlow{Protocol: sp.Protocol(), Dest: dst, Port: port, Endpoint: ep})
	}
	add(sp.ClusterIP, sp.Port)
	for _, ip := range sp.ExternalIPs {
		add(ip, sp.Port)
	}
	for _, ip := range sp.LoadBalancerIPs {
		add(ip, sp.Port)
	}
	if sp.NodePort != 0 {
		add(netip.Addr{}, sp.NodePort)
	}
	return flows
}

// endpointIPs returns the distinct addresses of the endpoints the port sends to.
func endpointIPs(sp *proxy.Service) []netip.Addr {
	var out []netip.Addr
	for _, ep := range reachable(sp.Endpoints) {
		if !slices.Contains(out, ep.IP) {
			out = append(out, ep.IP)
		}
	}
	return out
}
