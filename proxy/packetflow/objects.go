package packetflow

import (
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceOpt changes a Service built by NewService.
type ServiceOpt func(*v1.Service)

// NewService returns a ClusterIP Service "ns/name" with the given cluster IP and no
// ports; add them with Port.
func NewService(ns, name, clusterIP string, opts ...ServiceOpt) *v1.Service {
	s := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: "1"},
		Spec: v1.ServiceSpec{
			Type:       v1.ServiceTypeClusterIP,
			ClusterIP:  clusterIP,
			ClusterIPs: []string{clusterIP},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Port adds a port; a nodePort other than 0 makes the service a NodePort one
// (unless it already is a LoadBalancer).
func Port(name string, proto v1.Protocol, port, nodePort int32) ServiceOpt {
	return func(s *v1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, v1.ServicePort{Name: name, Protocol: proto, Port: port, NodePort: nodePort})
		if nodePort != 0 && s.Spec.Type == v1.ServiceTypeClusterIP {
			s.Spec.Type = v1.ServiceTypeNodePort
		}
	}
}

// ExternalIPs sets the service's external IPs.
func ExternalIPs(ips ...string) ServiceOpt {
	return func(s *v1.Service) { s.Spec.ExternalIPs = ips }
}

// LoadBalancer makes the service a LoadBalancer with ingress IPs ips, reachable only
// from sourceRanges when some are given.
func LoadBalancer(ips []string, sourceRanges ...string) ServiceOpt {
	return func(s *v1.Service) {
		s.Spec.Type = v1.ServiceTypeLoadBalancer
		s.Spec.LoadBalancerSourceRanges = sourceRanges
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, v1.LoadBalancerIngress{IP: ip})
		}
	}
}

// ExternalLocal sets externalTrafficPolicy: Local, with a health check node port.
func ExternalLocal(healthCheckNodePort int32) ServiceOpt {
	return func(s *v1.Service) {
		s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal
		s.Spec.HealthCheckNodePort = healthCheckNodePort
	}
}

// InternalLocal sets internalTrafficPolicy: Local.
func InternalLocal() ServiceOpt {
	return func(s *v1.Service) {
		p := v1.ServiceInternalTrafficPolicyLocal
		s.Spec.InternalTrafficPolicy = &p
	}
}

// Affinity sets ClientIP session affinity with a timeout in seconds.
func Affinity(seconds int32) ServiceOpt {
	return func(s *v1.Service) {
		s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: &seconds}}
	}
}

// Endpoint is one address of an EndpointSlice built by NewSlice.
type Endpoint struct {
	IP   string
	Node string
	// NotReady marks the endpoint not ready (and not serving).
	NotReady bool
	// Terminating marks it serving but terminating.
	Terminating bool
}

// NewSlice returns an EndpointSlice of service ns/svc for one port.
func NewSlice(ns, svc, name string, family v1.IPFamily, portName string, proto v1.Protocol, port int32, eps ...Endpoint) *discovery.EndpointSlice {
	addrType := discovery.AddressTypeIPv4
	if family == v1.IPv6Protocol {
		addrType = discovery.AddressTypeIPv6
	}
	s := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, ResourceVersion: "1",
			Labels: map[string]string{discovery.LabelServiceName: svc},
		},
		AddressType: addrType,
		Ports:       []discovery.EndpointPort{{Name: &portName, Protocol: &proto, Port: &port}},
	}
	for _, e := range eps {
		ready, serving, terminating := !e.NotReady && !e.Terminating, !e.NotReady, e.Terminating
		node := e.Node
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{
			Addresses:  []string{e.IP},
			NodeName:   &node,
			Conditions: discovery.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		})
	}
	return s
}
