// Package e2e holds kproxy's end-to-end tests: a real kube-apiserver,
// nodes, pods and clients simulated with network namespaces (package
// e2e/framework), and the built kproxy binary on each node. See README.md.
package e2e

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// TestSmoke runs kproxy in iptables mode on one node, creates a Service
// and its EndpointSlice, and expects both in kproxy's /debug/state within
// 2 s, then traffic to the ClusterIP to reach the pod.
func TestSmoke(t *testing.T) {
	c := framework.New(t, framework.Options{Nodes: 1})
	node := c.Nodes[0]
	k := c.StartKProxy(t, node, framework.KProxyOptions{Mode: "iptables"})
	web := c.AddPod(t, framework.PodSpec{Name: "web-1", Node: node})
	caller := c.AddPod(t, framework.PodSpec{Name: "caller", Node: node})

	start := time.Now()
	svc := c.CreateService(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "tcp", Port: 80, TargetPort: intstr.FromInt32(framework.EchoTCPPort), Protocol: corev1.ProtocolTCP},
		}},
	})
	c.SetEndpoints(t, svc, framework.ReadyEndpoints(web)...)
	k.WaitForState(t, 2*time.Second,
		fmt.Sprintf("service default/web:tcp TCP %s:80", svc.Spec.ClusterIP),
		fmt.Sprintf("endpoint %s:%d ready", web.IP, framework.EchoTCPPort),
	)
	t.Logf("service and endpoints in kproxy's state %v after creation", time.Since(start).Round(time.Millisecond))

	t.Run("traffic to the ClusterIP", func(t *testing.T) {
		addr := netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), 80)
		var r traffic.Result
		deadline := time.Now().Add(5 * time.Second)
		for {
			r = c.Probe(t, caller, traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 20, Timeout: 500 * time.Millisecond})
			if r.Pods[web.Name] == 20 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r.Pods[web.Name] != 20 || r.Clients[caller.IP.String()] != 20 {
			t.Errorf("want 20 answers from %s seeing %s (no masquerade), got %s", web.Name, caller.IP, r.String())
		}
	})
}
