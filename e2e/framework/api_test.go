package framework

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestAPIObjects checks what the framework writes to the apiserver: Node
// objects and the EndpointSlices that follow pods through their life.
func TestAPIObjects(t *testing.T) {
	c := New(t, Options{Nodes: 2, Zones: []string{"east", "west"}})
	ctx := context.Background()

	t.Run("nodes", func(t *testing.T) {
		for _, n := range c.Nodes {
			got, err := c.Kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Spec.PodCIDR != n.PodCIDR.String() || got.Labels[LabelZone] != n.Zone || got.Labels[LabelHostname] != n.Name ||
				len(got.Status.Addresses) == 0 || got.Status.Addresses[0].Address != n.IP.String() {
				t.Errorf("node %s: labels %v spec %+v addresses %v", n.Name, got.Labels, got.Spec, got.Status.Addresses)
			}
		}
	})

	pods := []*Pod{
		c.AddPod(t, PodSpec{Name: "web-1", Node: c.Nodes[0]}),
		c.AddPod(t, PodSpec{Name: "web-2", Node: c.Nodes[1]}),
	}
	svc := c.CreateService(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(EchoHTTPPort), Protocol: corev1.ProtocolTCP},
			{Name: "dns", Port: 53, TargetPort: intstr.FromInt32(EchoUDPPort), Protocol: corev1.ProtocolUDP},
		}},
	})
	if svc.Spec.ClusterIP == "" {
		t.Fatalf("service has no ClusterIP: %+v", svc.Spec)
	}
	c.SetEndpoints(t, svc, ReadyEndpoints(pods...)...)

	t.Run("slice", func(t *testing.T) {
		s := getSlice(t, c, svc)
		if s.Labels[discoveryv1.LabelServiceName] != "web" || s.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
			t.Errorf("labels %v annotations %v", s.Labels, s.Annotations)
		}
		if len(s.Ports) != 2 || *s.Ports[0].Port != EchoHTTPPort || *s.Ports[1].Protocol != corev1.ProtocolUDP {
			t.Errorf("ports %+v", s.Ports)
		}
		want := map[string]string{"10.244.1.2": "node-1/east", "10.244.2.2": "node-2/west"}
		for _, ep := range s.Endpoints {
			if got := *ep.NodeName + "/" + *ep.Zone; want[ep.Addresses[0]] != got || !*ep.Conditions.Ready {
				t.Errorf("endpoint %s: %s ready=%v, want %s", ep.Addresses[0], got, *ep.Conditions.Ready, want[ep.Addresses[0]])
			}
		}
	})

	t.Run("remove pod", func(t *testing.T) {
		c.TerminatePod(t, pods[1])
		conds := endpointConditions(getSlice(t, c, svc))
		if got := conds[pods[1].IP.String()]; got != "terminating serving" {
			t.Errorf("terminating: %s is %q, want terminating serving", pods[1].Name, got)
		}
		c.DeletePod(t, pods[1])
		conds = endpointConditions(getSlice(t, c, svc))
		if _, ok := conds[pods[1].IP.String()]; ok || conds[pods[0].IP.String()] != "ready serving" {
			t.Errorf("after removal: %v", conds)
		}
	})
}

// getSlice reads the framework's EndpointSlice of svc.
func getSlice(t *testing.T, c *Cluster, svc *corev1.Service) *discoveryv1.EndpointSlice {
	t.Helper()
	s, err := c.Kube.DiscoveryV1().EndpointSlices(svc.Namespace).Get(context.Background(), SliceName(svc.Name), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// endpointConditions maps each address to its true conditions, e.g.
// "ready serving".
func endpointConditions(s *discoveryv1.EndpointSlice) map[string]string {
	out := map[string]string{}
	for _, ep := range s.Endpoints {
		var words []string
		for _, c := range []struct {
			on   *bool
			name string
		}{{ep.Conditions.Ready, "ready"}, {ep.Conditions.Terminating, "terminating"}, {ep.Conditions.Serving, "serving"}} {
			if c.on != nil && *c.on {
				words = append(words, c.name)
			}
		}
		out[ep.Addresses[0]] = strings.Join(words, " ")
	}
	return out
}
