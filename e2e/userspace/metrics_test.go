package userspacee2e

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
)

// The userspace mode's metrics (modes/userspace/README.md), labelled by
// ip_family and service_port.
const (
	metricActive       = "kubeproxy_userspace_active_connections"
	metricConnections  = "kubeproxy_userspace_connections_total"
	metricDialFailures = "kubeproxy_userspace_dial_failures_total"
	// metricGoroutines comes from the Go collector kproxy registers.
	metricGoroutines = "go_goroutines"
)

// portMetric returns kproxy k's sample of a userspace metric for svc's port
// named port (IPv4); a series not reported yet counts as 0.
func portMetric(t *testing.T, k *framework.KProxy, metric string, svc *corev1.Service, port string) float64 {
	t.Helper()
	v, _ := framework.MetricValue(k.Metrics(t), metric, map[string]string{"ip_family": "IPv4", "service_port": portLabel(svc, port)})
	return v
}

// waitIdle waits until kproxy k relays no connection or UDP session of
// svc's port named port, and fails the test when that takes longer than
// syncWait.
func waitIdle(t *testing.T, k *framework.KProxy, svc *corev1.Service, port string) {
	t.Helper()
	if !eventually(syncWait, func() bool { return portMetric(t, k, metricActive, svc, port) == 0 }) {
		t.Fatalf("%s: %s{service_port=%q} = %v after %v, want 0", k.Node.Name, metricActive, portLabel(svc, port),
			portMetric(t, k, metricActive, svc, port), syncWait)
	}
}
