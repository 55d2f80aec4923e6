package iptablese2e

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// kproxy's metric names, as kube-proxy's.
const (
	metricLastSync        = "kubeproxy_sync_proxy_rules_last_timestamp_seconds"
	metricRestoreFailures = "kubeproxy_sync_proxy_rules_iptables_restore_failures_total"
	metricRules           = "kubeproxy_sync_proxy_rules_iptables_total"
)

// ipFamilies are the ip_family label values.
var ipFamilies = []string{"IPv4", "IPv6"}

// syncWait bounds how long checkSyncs waits for a sync to show: the minimum
// sync period (1 s) plus a restore.
const syncWait = 5 * time.Second

// lastSyncs returns every kproxy's IPv4 last-sync timestamp (0 before the
// first sync).
func (s *suite) lastSyncs(t *testing.T) []float64 {
	t.Helper()
	out := make([]float64, len(s.kps))
	for i, k := range s.kps {
		out[i], _ = framework.MetricValue(k.Metrics(t), metricLastSync, map[string]string{"ip_family": "IPv4"})
	}
	return out
}

// checkSyncs waits until every kproxy's IPv4 last-sync timestamp passed its
// value in before (the scenario's changes must have been synced), and checks
// that no iptables-restore failed in either family. The failure counter has
// no sample until a failure, so the rule count, which the iptables backend
// reports through the same seam, must show first that the backend's metrics
// reach /metrics at all.
func (s *suite) checkSyncs(t *testing.T, before []float64) {
	t.Helper()
	deadline := time.Now().Add(syncWait)
	for i, k := range s.kps {
		var text string
		for {
			text = k.Metrics(t)
			now, _ := framework.MetricValue(text, metricLastSync, map[string]string{"ip_family": "IPv4"})
			if now > before[i] {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %s stayed at %v during the scenario: no sync", k.Node.Name, metricLastSync, now)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n, ok := framework.MetricValue(text, metricRules, map[string]string{"ip_family": "IPv4", "table": "nat"}); !ok || n == 0 {
			t.Errorf("%s: %s{ip_family=\"IPv4\",table=\"nat\"} = %v (present %v): the iptables backend's metrics are not reported", k.Node.Name, metricRules, n, ok)
		}
		for _, fam := range ipFamilies {
			if n, _ := framework.MetricValue(text, metricRestoreFailures, map[string]string{"ip_family": fam}); n != 0 {
				t.Errorf("%s: %s{ip_family=%q} = %v, want 0", k.Node.Name, metricRestoreFailures, fam, n)
			}
		}
	}
}
