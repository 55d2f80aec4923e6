package proxy

import (
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kproxy/kproxy/endpoints"
)

func TestTrimmer(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	node, zone := "node-a", "zone-a"
	tests := []struct {
		name     string
		in, want any
	}{{
		name: "service keeps its addresses, ports, status and proxy annotations",
		in: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: "7", ManagedFields: managed,
				Labels: map[string]string{"app": "s"},
				Annotations: map[string]string{
					"kubectl.kubernetes.io/last-applied-configuration": `{"big":"copy"}`,
					"service.kubernetes.io/topology-mode":              "Auto",
				}},
			Spec: v1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []v1.ServicePort{{Port: 53}},
				Selector: map[string]string{"app": "s"}},
			Status: v1.ServiceStatus{LoadBalancer: v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{{IP: "5.6.7.8"}}}},
		},
		want: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: "7",
				Annotations: map[string]string{"service.kubernetes.io/topology-mode": "Auto"}},
			Spec:   v1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []v1.ServicePort{{Port: 53}}},
			Status: v1.ServiceStatus{LoadBalancer: v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{{IP: "5.6.7.8"}}}},
		},
	}, {
		name: "endpointslice keeps its service label, trigger time and endpoints' placement",
		in: &discovery.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "s-1", Namespace: "ns", ManagedFields: managed,
				Labels:          map[string]string{discovery.LabelServiceName: "s"},
				OwnerReferences: []metav1.OwnerReference{{Kind: "Service", Name: "s"}},
				Annotations: map[string]string{
					endpoints.TriggerTimeAnnotation:     "2026-01-01T00:00:00Z",
					"endpoints.kubernetes.io/other-one": "x",
				}},
			Endpoints: []discovery.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: &node, Zone: &zone,
				Hostname: &node, TargetRef: &v1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p", UID: "u"},
				DeprecatedTopology: map[string]string{"k": "v"}}},
		},
		want: &discovery.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "s-1", Namespace: "ns",
				Labels:      map[string]string{discovery.LabelServiceName: "s"},
				Annotations: map[string]string{endpoints.TriggerTimeAnnotation: "2026-01-01T00:00:00Z"}},
			Endpoints: []discovery.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: &node, Zone: &zone}},
		},
	}, {
		name: "endpointslice without annotations",
		in:   &discovery.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s-2", Annotations: map[string]string{"a": "b"}}},
		want: &discovery.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s-2"}},
	}, {
		name: "node keeps its zone, addresses and taints",
		in: &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n", ManagedFields: managed, Labels: map[string]string{v1.LabelTopologyZone: "z"}},
			Spec:       v1.NodeSpec{Taints: []v1.Taint{{Key: ToBeDeletedTaintKey}}},
			Status: v1.NodeStatus{Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: "192.168.0.10"}},
				Images: []v1.ContainerImage{{Names: []string{"registry/app:v1"}, SizeBytes: 1 << 20}}},
		},
		want: &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: map[string]string{v1.LabelTopologyZone: "z"}},
			Spec:       v1.NodeSpec{Taints: []v1.Taint{{Key: ToBeDeletedTaintKey}}},
			Status:     v1.NodeStatus{Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: "192.168.0.10"}}},
		},
	}, {
		name: "other objects pass unchanged",
		in:   &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", ManagedFields: managed}},
		want: &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", ManagedFields: managed}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newTrimmer().trim(tt.in)
			if err != nil {
				t.Fatalf("trim: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("trim:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestTrimmerSharesNames checks that endpoints on the same node end up pointing to
// one copy of its name, across slices, and keep their values.
func TestTrimmerSharesNames(t *testing.T) {
	tr := newTrimmer()
	slice := func(nodes ...string) *discovery.EndpointSlice {
		s := &discovery.EndpointSlice{}
		for _, n := range nodes {
			s.Endpoints = append(s.Endpoints, discovery.Endpoint{NodeName: &n})
		}
		_, _ = tr.trim(s)
		return s
	}
	a, b := slice("node-a", "node-b", "node-a"), slice("node-a")
	if *a.Endpoints[0].NodeName != "node-a" || *a.Endpoints[1].NodeName != "node-b" {
		t.Fatalf("names changed: %q %q", *a.Endpoints[0].NodeName, *a.Endpoints[1].NodeName)
	}
	if a.Endpoints[0].NodeName != a.Endpoints[2].NodeName || a.Endpoints[0].NodeName != b.Endpoints[0].NodeName {
		t.Error("endpoints on node-a do not share its name")
	}
}
