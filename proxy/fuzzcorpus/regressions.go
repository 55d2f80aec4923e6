package fuzzcorpus

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Regressions returns hand-written programs for the bugs the fuzzers found, by name.
// Unlike Seeds they do not depend on how Generate reads bytes.
func Regressions() map[string][]Step {
	return map[string][]Step{
		// A slice whose service label changes must leave its old service.
		"slice changes service": withAnchor(
			Step{Kind: SetService, Service: regService("a", "10.96.1.1", "http")},
			Step{Kind: SetService, Service: regService("b", "10.96.1.2", "http")},
			Step{Kind: SetSlice, Slice: regSlice("s1", "a", "node-b", "10.1.0.1")},
			Step{Kind: Sync},
			Step{Kind: SetSlice, Slice: regSlice("s1", "b", "node-b", "10.1.0.1")},
			Step{Kind: Sync},
			Step{Kind: SetSlice, Slice: regSlice("s1", "", "node-b", "10.1.0.1")},
			Step{Kind: Sync},
			Step{Kind: DeleteSlice, Slice: regSlice("s1", "", "node-b")},
		),
		// Names iptables cannot take in a comment (quotes, newlines, over 255 bytes)
		// must not reach the backends.
		"names iptables cannot print": withAnchor(
			Step{Kind: SetService, Service: regService("quotes", "10.96.1.3", `quo"te`, "ok")},
			Step{Kind: SetService, Service: regService("new\nline", "10.96.1.4", "http")},
			Step{Kind: SetService, Service: regService(strings.Repeat("n", 300), "10.96.1.5", "http")},
			Step{Kind: SetService, Service: regService("long-port", "10.96.1.6", strings.Repeat("p", 200))},
		),
		// A bad port of a service whose first cluster IP is bad must still be
		// reported, from the family that works.
		"bad first cluster IP": withAnchor(
			Step{Kind: SetService, Service: func() *v1.Service {
				svc := regService("first-bad", "fe80::1%eth0", "http", "odd")
				svc.Spec.ClusterIPs = append(svc.Spec.ClusterIPs, "fd00:96::1:8")
				svc.Spec.Ports[1].Protocol = "ICMP"
				return svc
			}()},
		),
		// A source range of everyone: iptables-save prints "-s 0.0.0.0/0" as nothing,
		// and the fake must too.
		"source range of everyone": withAnchor(
			Step{Kind: SetService, Service: func() *v1.Service {
				svc := regService("open", "10.96.1.8", "http")
				svc.Spec.ClusterIPs = append(svc.Spec.ClusterIPs, "fd00:96::1:9")
				svc.Spec.Type = v1.ServiceTypeLoadBalancer
				svc.Spec.LoadBalancerSourceRanges = []string{"0.0.0.0/0", "::/0"}
				svc.Status.LoadBalancer.Ingress = []v1.LoadBalancerIngress{{IP: "192.0.2.8"}, {IP: "2001:db8::8"}}
				return svc
			}()},
			Step{Kind: SetSlice, Slice: regSlice("open-4", "open", "node-b", "10.1.0.8")},
			Step{Kind: SetSlice, Slice: func() *discovery.EndpointSlice {
				sl := regSlice("open-6", "open", "node-b", "fd00:1::8")
				sl.AddressType = discovery.AddressTypeIPv6
				return sl
			}()},
		),
		// The same address in two slices, as local and as remote endpoint: which copy
		// wins must not depend on map order.
		"duplicate endpoint in two slices": withAnchor(
			Step{Kind: SetService, Service: regService("dup", "10.96.1.7", "http")},
			Step{Kind: SetSlice, Slice: regSlice("s1", "dup", NodeName, "10.1.0.9")},
			Step{Kind: SetSlice, Slice: regSlice("s2", "dup", "node-b", "10.1.0.9")},
		),
	}
}

// withAnchor returns a program that creates the anchor, runs steps and syncs.
func withAnchor(steps ...Step) []Step {
	out := []Step{{Kind: SetService, Service: AnchorService()}}
	for _, sl := range AnchorSlices() {
		out = append(out, Step{Kind: SetSlice, Slice: sl})
	}
	out = append(out, Step{Kind: Sync})
	out = append(out, steps...)
	return append(out, Step{Kind: Sync})
}

// regService returns a ClusterIP service in namespace "reg" with TCP ports named
// ports, numbered from 80.
func regService(name, clusterIP string, ports ...string) *v1.Service {
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "reg", Name: name},
		Spec:       v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: clusterIP, ClusterIPs: []string{clusterIP}},
	}
	for i, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, v1.ServicePort{Name: p, Protocol: v1.ProtocolTCP, Port: int32(80 + i)})
	}
	return svc
}

// regSlice returns an IPv4 slice in namespace "reg" of service svc (no label when
// ""), for port "http" 8080, with ready endpoints on node.
func regSlice(name, svc, node string, ips ...string) *discovery.EndpointSlice {
	sl := &discovery.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "reg", Name: name},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: ptr("http"), Protocol: ptr(v1.ProtocolTCP), Port: ptr(int32(8080))}},
	}
	if svc != "" {
		sl.Labels = map[string]string{discovery.LabelServiceName: svc}
	}
	for _, ip := range ips {
		sl.Endpoints = append(sl.Endpoints, discovery.Endpoint{Addresses: []string{ip}, NodeName: ptr(node),
			Conditions: discovery.EndpointConditions{Ready: ptr(true)}})
	}
	return sl
}
