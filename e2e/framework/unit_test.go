package framework

import (
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// These tests need neither root nor a cluster.

func TestRenderSlice(t *testing.T) {
	n1 := &Node{Name: "node-1", Zone: "zone-a"}
	n2 := &Node{Name: "node-2", Zone: "zone-b"}
	a := &Pod{Name: "a", Namespace: "default", Node: n1, IP: PodIP(1, 2)}
	b := &Pod{Name: "b", Namespace: "default", Node: n2, IP: PodIP(2, 2)}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8081), Protocol: corev1.ProtocolTCP},
			{Name: "raw", Port: 9000, TargetPort: intstr.FromString("named"), Protocol: corev1.ProtocolUDP},
		}},
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := renderSlice(svc, []Endpoint{{Pod: a, Hints: []string{"zone-a"}}, {Pod: b, State: StateTerminating}}, now)

	if s.Name != "web-kpe2e" || s.Namespace != "default" || s.Labels[discoveryv1.LabelServiceName] != "web" ||
		s.Annotations[corev1.EndpointsLastChangeTriggerTime] != "2030-01-02T03:04:05Z" || s.AddressType != discoveryv1.AddressTypeIPv4 {
		t.Errorf("meta: %+v %v", s.ObjectMeta, s.AddressType)
	}
	if len(s.Ports) != 2 || *s.Ports[0].Port != 8081 || *s.Ports[1].Port != 9000 || *s.Ports[1].Protocol != corev1.ProtocolUDP || *s.Ports[0].Name != "http" {
		t.Errorf("ports: %+v", s.Ports)
	}
	if len(s.Endpoints) != 2 {
		t.Fatalf("endpoints: %+v", s.Endpoints)
	}
	ea, eb := s.Endpoints[0], s.Endpoints[1]
	if ea.Addresses[0] != "10.244.1.2" || *ea.NodeName != "node-1" || *ea.Zone != "zone-a" || ea.Hints.ForZones[0].Name != "zone-a" || ea.TargetRef.Name != "a" {
		t.Errorf("endpoint a: %+v", ea)
	}
	if *eb.Conditions.Ready || !*eb.Conditions.Serving || !*eb.Conditions.Terminating || eb.Hints != nil {
		t.Errorf("endpoint b conditions: %+v", eb.Conditions)
	}
}

func TestStateConditions(t *testing.T) {
	cases := []struct {
		s                           State
		ready, serving, terminating bool
	}{
		{StateReady, true, true, false},
		{StateNotReady, false, false, false},
		{StateTerminating, false, true, true},
		{StateTerminatingNotServing, false, false, true},
	}
	for _, tc := range cases {
		c := tc.s.conditions()
		if *c.Ready != tc.ready || *c.Serving != tc.serving || *c.Terminating != tc.terminating {
			t.Errorf("state %d: %v %v %v", tc.s, *c.Ready, *c.Serving, *c.Terminating)
		}
	}
}

func TestMetricValue(t *testing.T) {
	text := `# HELP kubeproxy_sync_proxy_rules_total x
# TYPE kubeproxy_sync_proxy_rules_total counter
kubeproxy_sync_proxy_rules_total 7
kproxy_rules{family="IPv4",table="nat"} 42
kproxy_rules{family="IPv6",table="nat"} 3 1700000000
`
	cases := []struct {
		name   string
		labels map[string]string
		want   float64
		ok     bool
	}{
		{"kubeproxy_sync_proxy_rules_total", nil, 7, true},
		{"kproxy_rules", map[string]string{"family": "IPv6"}, 3, true},
		{"kproxy_rules", map[string]string{"table": "nat", "family": "IPv4"}, 42, true},
		{"kproxy_rules", map[string]string{"table": "filter"}, 0, false},
		{"missing", nil, 0, false},
	}
	for _, tc := range cases {
		got, ok := MetricValue(text, tc.name, tc.labels)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MetricValue(%s, %v) = %v, %v; want %v, %v", tc.name, tc.labels, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNamesAndSweepOwnership(t *testing.T) {
	p := newRunPrefix()
	if pid, ok := ownerPID(p + "node-1"); !ok || pid != os.Getpid() {
		t.Errorf("ownerPID(%q) = %d, %v", p+"node-1", pid, ok)
	}
	if abandoned(p + "fabric") {
		t.Error("this process's own namespace counted as abandoned")
	}
	for _, name := range []string{"kcl-fab", "kpe2e-", "kpe2e-x-1-fabric", "kpe2e-12"} {
		if _, ok := ownerPID(name); ok {
			t.Errorf("ownerPID(%q) accepted a foreign name", name)
		}
	}
	// pid 1 always runs: never swept.
	if abandoned(Prefix + "1-abcd-fabric") {
		t.Error("a live owner's namespace counted as abandoned")
	}
	// a pid above pid_max never runs.
	if !abandoned(Prefix + strconv.Itoa(1<<30) + "-abcd-fabric") {
		t.Error("a dead owner's namespace not counted as abandoned")
	}
}

func TestMissingLines(t *testing.T) {
	state := "family IPv4 node node-1\nservice default/web:http TCP 10.96.0.10:80\n  endpoint 10.244.1.2:8081 ready serving\n"
	got := missingLines(state, []string{"service default/web:http TCP 10.96.0.10:80", "endpoint 10.244.1.2:8081 ready", "endpoint 10.244.1.3:8081"})
	if len(got) != 1 || got[0] != "endpoint 10.244.1.3:8081" {
		t.Errorf("missingLines = %q", got)
	}
}
