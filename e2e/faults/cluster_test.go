package faultse2e

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kproxy/kproxy/e2e/framework"
)

// kproxy's metric names, as kube-proxy's.
const (
	metricRestoreFailures = "kubeproxy_sync_proxy_rules_iptables_restore_failures_total"
	metricLastSync        = "kubeproxy_sync_proxy_rules_last_timestamp_seconds"
)

// ipv4 selects the IPv4 series of a metric.
var ipv4 = map[string]string{"ip_family": "IPv4"}

// createWeb creates Service "web" (TCP 80 to the echo server's port) with
// pods as its ready endpoints and returns its cluster IP and port.
func createWeb(t *testing.T, c *framework.Cluster, pods ...*framework.Pod) (*corev1.Service, netip.AddrPort) {
	t.Helper()
	svc := c.CreateService(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "tcp", Port: 80, TargetPort: intstr.FromInt32(framework.EchoTCPPort), Protocol: corev1.ProtocolTCP},
		}},
	})
	c.SetEndpoints(t, svc, framework.ReadyEndpoints(pods...)...)
	return svc, netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), 80)
}

// metric reads one IPv4 sample of kproxy's metrics (0 when absent).
func metric(t *testing.T, k *framework.KProxy, name string) float64 {
	t.Helper()
	v, _ := framework.MetricValue(k.Metrics(t), name, ipv4)
	return v
}

// waitSynced waits until kproxy's IPv4 last-sync timestamp passes after, a
// Unix time in seconds: a sync that started later has ended.
func waitSynced(t *testing.T, k *framework.KProxy, after float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for metric(t, k, metricLastSync) <= after {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no sync ended within %v", k.Process.Name, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unixSeconds is t as the metrics print timestamps.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
