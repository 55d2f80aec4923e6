package main

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kproxy/kproxy/e2e/framework"
)

// Service ports: every Service listens on servicePort and forwards to the
// echo server's TCP port; the NodePort one also on nodePort.
const (
	servicePort = 80
	nodePort    = 30080
	// stateTimeout bounds the wait for a Service in kproxy's /debug/state.
	stateTimeout = 5 * time.Second
	// rulesTimeout bounds the wait for the rules to answer traffic.
	rulesTimeout = 10 * time.Second
)

// service is a Service of the demo and the pods behind it.
type service struct {
	// obj is the Service as the apiserver stored it (ClusterIP allocated).
	obj  *corev1.Service
	pods []*framework.Pod
}

// addr is the Service's ClusterIP and port.
func (s *service) addr() netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(s.obj.Spec.ClusterIP), servicePort)
}

// stateLines are the /debug/state lines kproxy shows once it has the
// Service and its endpoints.
func (s *service) stateLines() []string {
	line := fmt.Sprintf("service %s/%s:tcp TCP %s", s.obj.Namespace, s.obj.Name, s.addr())
	if s.obj.Spec.Type == corev1.ServiceTypeNodePort {
		line += fmt.Sprintf(" nodePort=%d", nodePort)
	}
	want := []string{line}
	for _, p := range s.pods {
		want = append(want, fmt.Sprintf("endpoint %s:%d ready", p.IP, framework.EchoTCPPort))
	}
	return want
}

// newService is a Service object with one TCP port to the echo server.
func newService(name string, typ corev1.ServiceType, affinity corev1.ServiceAffinity) *corev1.Service {
	port := corev1.ServicePort{Name: "tcp", Protocol: corev1.ProtocolTCP, Port: servicePort, TargetPort: intstr.FromInt32(framework.EchoTCPPort)}
	if typ == corev1.ServiceTypeNodePort {
		port.NodePort = nodePort
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Type: typ, SessionAffinity: affinity, Ports: []corev1.ServicePort{port}},
	}
}

// createServices starts the pods, creates the three Services with their
// EndpointSlices, and waits until both kproxies have them and the rules
// answer.
func (d *demo) createServices() {
	d.p.Section(2, steps, "Pods and Services")
	web := d.addPods("web", 3)
	api := d.addPods("api", 2)
	cart := d.addPods("cart", 3)
	d.addPods("caller", 2) // the clients inside the cluster, one per node
	d.clean.record()
	for _, n := range d.c.Nodes {
		var names []string
		for _, p := range sortedPods(d.pods) {
			if p.Node == n {
				names = append(names, fmt.Sprintf("%s %s", p.Name, p.IP))
			}
		}
		d.p.Linef("pods on %s: %s", n.Name, strings.Join(names, ", "))
	}

	start := time.Now()
	d.svcs = []*service{
		d.createService(newService("web", corev1.ServiceTypeClusterIP, corev1.ServiceAffinityNone), web),
		d.createService(newService("api", corev1.ServiceTypeNodePort, corev1.ServiceAffinityNone), api),
		d.createService(newService("cart", corev1.ServiceTypeClusterIP, corev1.ServiceAffinityClientIP), cart),
	}
	for _, s := range d.svcs {
		d.p.Linef("service %-5s %s", s.obj.Name, s.describe())
	}
	for _, k := range d.kps {
		for _, s := range d.svcs {
			k.WaitForState(d.t, stateTimeout, s.stateLines()...)
		}
	}
	inState := time.Since(start)
	answering := d.waitAnswering()
	d.p.Linef("both kproxies had the Services in /debug/state %s after creation", round(inState))
	if answering {
		d.p.Linef("and the rules answered traffic to all of them %s after creation", round(time.Since(start)))
	} else {
		d.p.Linef("but not all of them answered traffic within %s (section 3 shows which)", rulesTimeout)
	}
}

// createService creates obj and an EndpointSlice of ready pods for it.
func (d *demo) createService(obj *corev1.Service, pods []*framework.Pod) *service {
	s := &service{obj: d.c.CreateService(d.t, obj), pods: pods}
	d.c.SetEndpoints(d.t, s.obj, framework.ReadyEndpoints(pods...)...)
	return s
}

// sortedPods returns the pods sorted by name.
func sortedPods(pods map[string]*framework.Pod) []*framework.Pod {
	out := slices.Collect(maps.Values(pods))
	slices.SortFunc(out, func(a, b *framework.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// label is the Service's type and affinity: "ClusterIP, sessionAffinity ClientIP".
func (s *service) label() string {
	label := string(s.obj.Spec.Type)
	if s.obj.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		label += ", sessionAffinity ClientIP"
	}
	return label
}

// describe tells the Service's type, addresses and pods in one line.
func (s *service) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", s.obj.Spec.Type, s.addr())
	if s.obj.Spec.Type == corev1.ServiceTypeNodePort {
		fmt.Fprintf(&b, ", nodePort %d on every node", nodePort)
	}
	if cfg := s.obj.Spec.SessionAffinityConfig; cfg != nil && cfg.ClientIP != nil && cfg.ClientIP.TimeoutSeconds != nil {
		fmt.Fprintf(&b, ", sessionAffinity ClientIP (timeout %ds)", *cfg.ClientIP.TimeoutSeconds)
	}
	names := make([]string, len(s.pods))
	for i, p := range s.pods {
		names[i] = p.Name
	}
	fmt.Fprintf(&b, " -> %s, port %d", strings.Join(names, ", "), framework.EchoTCPPort)
	return b.String()
}
