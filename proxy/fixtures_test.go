package proxy

import (
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// svcOpt changes a test Service.
type svcOpt func(*v1.Service)

// newTestService builds a ClusterIP Service "ns/name" with TCP port "http" 80 → 8080.
func newTestService(name, clusterIP string, opts ...svcOpt) *v1.Service {
	s := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: "1"},
		Spec: v1.ServiceSpec{
			Type:       v1.ServiceTypeClusterIP,
			ClusterIP:  clusterIP,
			ClusterIPs: []string{clusterIP},
			Ports:      []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// newTestSlice builds an IPv4 slice of service ns/svc with ready endpoints on port "http" 8080.
func newTestSlice(svc, name string, addrs ...string) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: name, ResourceVersion: "1",
			Labels: map[string]string{discovery.LabelServiceName: svc},
		},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(8080)), Protocol: ptrTo(v1.ProtocolTCP)}},
	}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{Addresses: []string{a}, NodeName: ptrTo("node-a")})
	}
	return s
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T { return &v }

// nsName builds the name of service ns/name.
func nsName(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: name}
}

// httpPort is the ServicePortName of port "http" of ns/name.
func httpPort(name string) ServicePortName {
	return ServicePortName{NamespacedName: nsName(name), Port: "http", Protocol: v1.ProtocolTCP}
}
