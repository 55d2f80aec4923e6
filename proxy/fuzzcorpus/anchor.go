package fuzzcorpus

import (
	"net/netip"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// AnchorNamespace is the namespace of the anchor service; generated objects never
// use it.
const AnchorNamespace = "anchor"

// anchorName is the anchor service.
var anchorName = types.NamespacedName{Namespace: AnchorNamespace, Name: "web"}

// anchorPort is one port of the anchor service.
type anchorPort struct {
	name     string
	protocol v1.Protocol
	port     int32
	nodePort int32
	target   int32
}

// anchorPorts are the anchor's ports: TCP with a node port, and UDP.
var anchorPorts = []anchorPort{
	{name: "http", protocol: v1.ProtocolTCP, port: 80, nodePort: 30080, target: 8080},
	{name: "dns", protocol: v1.ProtocolUDP, port: 53, target: 5353},
}

// anchorIPs are the anchor's cluster IP and endpoints per family.
var anchorIPs = map[v1.IPFamily]struct {
	clusterIP string
	endpoints []string
}{
	v1.IPv4Protocol: {"10.96.255.1", []string{"10.255.0.1", "10.255.0.2"}},
	v1.IPv6Protocol: {"fd00:96::ff:1", []string{"fd00:255::1", "fd00:255::2"}},
}

// AnchorService returns the anchor: a dual-stack NodePort service, well formed in
// every way, that every program holds.
func AnchorService() *v1.Service {
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: anchorName.Namespace, Name: anchorName.Name, ResourceVersion: "1"},
		Spec: v1.ServiceSpec{
			Type:       v1.ServiceTypeNodePort,
			ClusterIP:  anchorIPs[v1.IPv4Protocol].clusterIP,
			ClusterIPs: []string{anchorIPs[v1.IPv4Protocol].clusterIP, anchorIPs[v1.IPv6Protocol].clusterIP},
			IPFamilies: []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol},
		},
	}
	for _, p := range anchorPorts {
		svc.Spec.Ports = append(svc.Spec.Ports, v1.ServicePort{Name: p.name, Protocol: p.protocol, Port: p.port, NodePort: p.nodePort})
	}
	return svc
}

// AnchorSlices returns the anchor's slices, one per family, with ready endpoints on
// another node.
func AnchorSlices() []*discovery.EndpointSlice {
	var out []*discovery.EndpointSlice
	for _, f := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		sl := &discovery.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: anchorName.Namespace, Name: anchorName.Name + "-" + string(f), ResourceVersion: "1",
				Labels: map[string]string{discovery.LabelServiceName: anchorName.Name}},
			AddressType: discovery.AddressType(f),
		}
		for _, p := range anchorPorts {
			sl.Ports = append(sl.Ports, discovery.EndpointPort{Name: ptr(p.name), Protocol: ptr(p.protocol), Port: ptr(p.target)})
		}
		for _, ip := range anchorIPs[f].endpoints {
			sl.Endpoints = append(sl.Endpoints, discovery.Endpoint{Addresses: []string{ip}, NodeName: ptr("node-b"),
				Conditions: discovery.EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)}})
		}
		out = append(out, sl)
	}
	return out
}

// IsAnchor reports whether a service port belongs to the anchor.
func IsAnchor(n proxy.ServicePortName) bool { return n.NamespacedName == anchorName }

// AnchorPort is one port of the anchor service in one family, as a packet sees it.
type AnchorPort struct {
	Protocol  v1.Protocol
	ClusterIP netip.Addr
	Port      uint16
	// Endpoints are where traffic to ClusterIP:Port must go, sorted.
	Endpoints []netip.AddrPort
}

// AnchorPorts returns the anchor's ports in family f.
func AnchorPorts(f v1.IPFamily) []AnchorPort {
	var out []AnchorPort
	for _, p := range anchorPorts {
		ap := AnchorPort{Protocol: p.protocol, ClusterIP: netip.MustParseAddr(anchorIPs[f].clusterIP), Port: uint16(p.port)}
		for _, ip := range anchorIPs[f].endpoints {
			ap.Endpoints = append(ap.Endpoints, netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(p.target)))
		}
		out = append(out, ap)
	}
	return out
}
