package userspace

import (
	"net/netip"

	"github.com/kproxy/kproxy/endpoints"
	"github.com/kproxy/kproxy/proxy"
)

// servicePort is the userspace proxy of one service port.
type servicePort struct {
	name  proxy.ServicePortName
	label string // name.String(), for logs and metrics
	m     *portMetrics
	// internal serves internal traffic (cluster IP) and, unless split, external
	// traffic too; nil until it could be opened.
	internal listener
	// split says external traffic selects other endpoints than internal traffic,
	// and has a listener of its own: external (nil until it could be opened).
	split    bool
	external listener
}

// trafficEndpoints returns the endpoints of internal traffic, of external traffic
// (node port, external and load-balancer IPs), and whether they differ by policy,
// as endpoints.Select chose them: Local endpoints for a Local policy, else Cluster
// ones.
func trafficEndpoints(svc *proxy.Service) (internal, external []netip.AddrPort, split bool) {
	pick := func(local bool) []endpoints.Endpoint {
		if local {
			return svc.Endpoints.Local
		}
		return svc.Endpoints.Cluster
	}
	internal = addrPorts(pick(svc.Policy.InternalLocal))
	split = svc.ExternallyReachable() && svc.Policy.ExternalLocal != svc.Policy.InternalLocal
	if split {
		external = addrPorts(pick(svc.Policy.ExternalLocal))
	}
	return internal, external, split
}

// addrPorts returns the endpoints' addresses.
func addrPorts(eps []endpoints.Endpoint) []netip.AddrPort {
	out := make([]netip.AddrPort, len(eps))
	for i, e := range eps {
		out[i] = e.AddrPort()
	}
	return out
}

// portal returns the service port's portal, or false when it has no listener.
func (sp *servicePort) portal(svc *proxy.Service) (portal, bool) {
	if sp.internal == nil {
		return portal{}, false
	}
	pt := portal{svc: svc, internal: sp.internal.port(), external: sp.internal.port()}
	if sp.split {
		pt.external = 0
		if sp.external != nil {
			pt.external = sp.external.port()
		}
	}
	return pt, true
}

// listeners returns the service port's open listeners.
func (sp *servicePort) listeners() []listener {
	var ls []listener
	for _, l := range []listener{sp.internal, sp.external} {
		if l != nil {
			ls = append(ls, l)
		}
	}
	return ls
}
