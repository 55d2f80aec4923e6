package proxy

import (
	"net/netip"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/endpoints"
)

// ServicePortName identifies one port of one service.
type ServicePortName struct {
	types.NamespacedName
	// Port is the port's name, "" for a service's single unnamed port.
	Port string
	// Protocol is the port's protocol.
	Protocol v1.Protocol
}

// String returns "namespace/name:port", or "namespace/name" for an unnamed port, as
// kube-proxy prints it in rule comments.
func (n ServicePortName) String() string {
	if n.Port == "" {
		return n.NamespacedName.String()
	}
	return n.NamespacedName.String() + ":" + n.Port
}

// Compare orders names by namespace, name, port and protocol.
func (n ServicePortName) Compare(o ServicePortName) int {
	for _, c := range [...][2]string{{n.Namespace, o.Namespace}, {n.Name, o.Name}, {n.Port, o.Port}, {string(n.Protocol), string(o.Protocol)}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ServicePort is what a Service asks of the proxy for one port in one IP family. Values
// are never mutated once built.
type ServicePort struct {
	Name      ServicePortName
	ClusterIP netip.Addr
	Port      uint16
	// NodePort is 0 when the service has none.
	NodePort uint16
	// ExternalIPs and LoadBalancerIPs hold only addresses of this family.
	ExternalIPs     []netip.Addr
	LoadBalancerIPs []netip.Addr
	// SourceRanges limits who may use the load-balancer IPs: nil lets anyone in; an empty,
	// non-nil list lets no one in (the service's ranges are all of the other family).
	SourceRanges []netip.Prefix
	// AffinityTimeout is the ClientIP session affinity timeout; 0 means no affinity.
	AffinityTimeout time.Duration
	// Policy tells which traffic must stay on this node's endpoints.
	Policy endpoints.Policy
	// HealthCheckNodePort serves load balancers' health checks for externalTrafficPolicy Local.
	HealthCheckNodePort uint16
}

// Protocol returns the port's protocol.
func (p *ServicePort) Protocol() v1.Protocol { return p.Name.Protocol }

// ExternallyReachable reports whether traffic may come from outside the cluster: through a
// node port, an external IP or a load-balancer IP.
func (p *ServicePort) ExternallyReachable() bool {
	return p.NodePort != 0 || len(p.ExternalIPs) > 0 || len(p.LoadBalancerIPs) > 0
}

// endpointKey is the key of this port inside the service's EndpointSlices.
func (p *ServicePort) endpointKey() endpoints.PortKey {
	return endpoints.PortKey{Name: p.Name.Port, Protocol: p.Name.Protocol}
}
