package iptablese2e

import (
	"context"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kproxy/kproxy/e2e/framework"
)

// servicePort is the port every test Service exposes.
const servicePort = 80

// tcpService is a ClusterIP Service named name with one TCP port 80 to the
// echo server; edit, when set, changes its spec before it is created.
func tcpService(name string, edit func(*corev1.ServiceSpec)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "tcp", Port: servicePort, TargetPort: intstr.FromInt32(framework.EchoTCPPort), Protocol: corev1.ProtocolTCP},
		}},
	}
	if edit != nil {
		edit(&svc.Spec)
	}
	return svc
}

// serve creates svc with pods as its ready endpoints.
func (s *suite) serve(t *testing.T, svc *corev1.Service, pods ...*framework.Pod) *corev1.Service {
	t.Helper()
	got := s.c.CreateService(t, svc)
	s.c.SetEndpoints(t, got, framework.ReadyEndpoints(pods...)...)
	return got
}

// clusterAddr is the ClusterIP and port of svc's first port.
func clusterAddr(svc *corev1.Service) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), uint16(svc.Spec.Ports[0].Port))
}

// nodePortAddr is node n's address with svc's first node port.
func nodePortAddr(n *framework.Node, svc *corev1.Service) netip.AddrPort {
	return netip.AddrPortFrom(n.IP, uint16(svc.Spec.Ports[0].NodePort))
}

// setIngress writes ip as the service's load-balancer ingress, as a cloud
// controller would, and returns the updated service.
func (s *suite) setIngress(t *testing.T, svc *corev1.Service, ip netip.Addr) *corev1.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svc = svc.DeepCopy()
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip.String()}}
	got, err := s.c.Kube.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("load-balancer status of %s: %v", svc.Name, err)
	}
	return got
}

// podPerNode adds one pod per node, named "<prefix>-<node name>", and returns them
// in node order.
func (s *suite) podPerNode(t *testing.T, prefix string) []*framework.Pod {
	t.Helper()
	var pods []*framework.Pod
	for _, n := range s.c.Nodes {
		pods = append(pods, s.c.AddPod(t, framework.PodSpec{Name: prefix + "-" + n.Name, Node: n}))
	}
	return pods
}
