package userspacee2e

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kproxy/kproxy/e2e/framework"
)

// servicePort is the port every test Service exposes.
const servicePort = 80

// Service port names: the TCP port is "tcp", the UDP port "udp".
const (
	portTCP = "tcp"
	portUDP = "udp"
)

// portRange is the --proxy-port-range value.
func portRange() string {
	return fmt.Sprintf("%d-%d", portBase, portBase+portSize-1)
}

// service is a Service named name with one port 80 to the echo server for
// each protocol in protocols (TCP when none); edit, when set, changes its
// spec before it is created.
func service(name string, edit func(*corev1.ServiceSpec), protocols ...corev1.Protocol) *corev1.Service {
	if len(protocols) == 0 {
		protocols = []corev1.Protocol{corev1.ProtocolTCP}
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, p := range protocols {
		sp := corev1.ServicePort{Name: portTCP, Port: servicePort, TargetPort: intstr.FromInt32(framework.EchoTCPPort), Protocol: p}
		if p == corev1.ProtocolUDP {
			sp.Name, sp.TargetPort = portUDP, intstr.FromInt32(framework.EchoUDPPort)
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	if edit != nil {
		edit(&svc.Spec)
	}
	return svc
}

// nodePortType makes a Service a NodePort one.
func nodePortType(sp *corev1.ServiceSpec) { sp.Type = corev1.ServiceTypeNodePort }

// serve creates svc with pods as its ready endpoints.
func (s *suite) serve(t *testing.T, svc *corev1.Service, pods ...*framework.Pod) *corev1.Service {
	t.Helper()
	got := s.c.CreateService(t, svc)
	s.c.SetEndpoints(t, got, framework.ReadyEndpoints(pods...)...)
	return got
}

// clusterAddr is svc's cluster IP with the port of its port named port.
func clusterAddr(svc *corev1.Service, port string) netip.AddrPort {
	sp := specPort(svc, port)
	return netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), uint16(sp.Port))
}

// nodePortAddr is node n's address with the node port of svc's port named
// port.
func nodePortAddr(n *framework.Node, svc *corev1.Service, port string) netip.AddrPort {
	return netip.AddrPortFrom(n.IP, uint16(specPort(svc, port).NodePort))
}

// specPort returns svc's port named name; it panics on a test's typo.
func specPort(svc *corev1.Service, name string) corev1.ServicePort {
	for _, sp := range svc.Spec.Ports {
		if sp.Name == name {
			return sp
		}
	}
	panic(fmt.Sprintf("service %s has no port %q", svc.Name, name))
}

// portLabel is the service_port label of svc's port named port in
// kproxy's metrics: "<namespace>/<name>:<port>".
func portLabel(svc *corev1.Service, port string) string {
	return svc.Namespace + "/" + svc.Name + ":" + port
}

// podPerNode adds one pod per node, named "<prefix>-<node name>", in node
// order.
func (s *suite) podPerNode(t *testing.T, prefix string) []*framework.Pod {
	t.Helper()
	var pods []*framework.Pod
	for _, n := range s.c.Nodes {
		pods = append(pods, s.c.AddPod(t, framework.PodSpec{Name: prefix + "-" + n.Name, Node: n}))
	}
	return pods
}

// threePods adds (once) the three endpoints of the round-robin and affinity
// scenarios: trio-1 and trio-3 on node-1, trio-2 on node-2.
func (s *suite) threePods(t *testing.T) []*framework.Pod {
	t.Helper()
	if s.trio == nil {
		s.trio = s.c.AddPods(t, "trio", 3)
	}
	return s.trio
}

// nodeAddrs are the addresses an endpoint sees when node n's kproxy
// connects to it: the pod gateway for pods on n, the node IP for the others.
func nodeAddrs(n *framework.Node) map[string]bool {
	return map[string]bool{n.IP.String(): true, n.PodGateway.String(): true}
}
