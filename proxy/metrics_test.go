package proxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	v1 "k8s.io/api/core/v1"
)

var metricsNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// exerciseMetrics calls every helper once, as a dual-stack iptables sync loop would.
func exerciseMetrics(m *Metrics) {
	m.ObserveSync(v1.IPv4Protocol, true, 300*time.Millisecond, metricsNow)
	m.ObserveSync(v1.IPv4Protocol, false, 20*time.Millisecond, metricsNow.Add(time.Second))
	m.ObserveFailedSync(v1.IPv6Protocol, false, 5*time.Millisecond)
	m.SyncQueued(v1.IPv4Protocol, metricsNow.Add(2*time.Second))
	m.CountChanges(3, 7)
	m.SetPendingChanges(1, 2)
	m.ObserveNetworkProgramming(v1.IPv4Protocol, 1500*time.Millisecond)
	m.ObserveNetworkProgramming(v1.IPv4Protocol, -time.Second)
	m.SetNoLocalEndpoints(v1.IPv4Protocol, 2, 1)
	m.ObserveHealthz(200)
	m.ObserveHealthz(503)
	m.ObserveLivez(200)
	m.IPTablesRestoreFailed(v1.IPv4Protocol, false)
	m.IPTablesRestoreFailed(v1.IPv4Protocol, false)
	m.IPTablesRestoreFailed(v1.IPv4Protocol, true)
	m.SetIPTablesRules(v1.IPv4Protocol, "nat", 120, 14)
	m.InvalidObject(InvalidKindService, "bad-cluster-ip")
	m.InvalidObject(InvalidKindEndpointSlice, "bad-address")
}

func TestMetricsValues(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	exerciseMetrics(m)

	ipv4, ipv6 := string(v1.IPv4Protocol), string(v1.IPv6Protocol)
	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"last sync is the latest success", m.lastSync.WithLabelValues(ipv4), float64(metricsNow.Unix() + 1)},
		{"last queued", m.lastQueued.WithLabelValues(ipv4), float64(metricsNow.Unix() + 2)},
		{"service changes total", m.serviceChangesTotal, 3},
		{"endpoint changes total", m.endpointChangesTotal, 7},
		{"service changes pending", m.serviceChangesPending, 1},
		{"endpoint changes pending", m.endpointChangesPending, 2},
		{"no local internal", m.noLocalEndpoints.WithLabelValues(ipv4, "internal"), 2},
		{"no local external", m.noLocalEndpoints.WithLabelValues(ipv4, "external"), 1},
		{"healthz 200", m.healthz.WithLabelValues("200"), 1},
		{"healthz 503", m.healthz.WithLabelValues("503"), 1},
		{"livez 200", m.livez.WithLabelValues("200"), 1},
		{"restore failures count partial ones too", m.restoreFailures.WithLabelValues(ipv4), 3},
		{"partial restore failures", m.partialRestoreFailures.WithLabelValues(ipv4), 1},
		{"iptables rules total", m.iptablesRules.WithLabelValues(ipv4, "nat"), 120},
		{"iptables rules last sync", m.iptablesRulesLast.WithLabelValues(ipv4, "nat"), 14},
		{"invalid services", m.invalidObjects.WithLabelValues("Service", "bad-cluster-ip"), 1},
	}
	for _, tc := range tests {
		if got := metricValue(tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}

	histograms := []struct {
		name   string
		family string
		count  uint64
	}{
		{"kubeproxy_sync_proxy_rules_duration_seconds", ipv4, 2},
		{"kubeproxy_sync_proxy_rules_duration_seconds", ipv6, 1},
		{"kubeproxy_sync_full_proxy_rules_duration_seconds", ipv4, 1},
		{"kubeproxy_sync_partial_proxy_rules_duration_seconds", ipv4, 1},
		{"kubeproxy_sync_partial_proxy_rules_duration_seconds", ipv6, 1},
		{"kubeproxy_network_programming_duration_seconds", ipv4, 1}, // the negative one dropped
	}
	for _, h := range histograms {
		if got := histogramCount(t, reg, h.name, h.family); got != h.count {
			t.Errorf("%s{ip_family=%s} count = %d, want %d", h.name, h.family, got, h.count)
		}
	}
	if got := metricValue(m.lastSync.WithLabelValues(ipv6)); got != 0 {
		t.Errorf("a failed sync moved the IPv6 last-sync timestamp to %v", got)
	}
}

// histogramCount returns the sample count of the histogram name{ip_family=family}.
func histogramCount(t *testing.T, reg prometheus.Gatherer, name, family string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "ip_family" && l.GetValue() == family {
					return metric.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

func TestMetricsExposition(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	exerciseMetrics(NewMetrics(reg))
	body := scrapeMetrics(t, reg)
	for _, want := range []string{
		"# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram",
		"# TYPE kubeproxy_sync_full_proxy_rules_duration_seconds histogram",
		"# TYPE kubeproxy_sync_partial_proxy_rules_duration_seconds histogram",
		"# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge",
		"# TYPE kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds gauge",
		"# TYPE kubeproxy_sync_proxy_rules_endpoint_changes_pending gauge",
		"# TYPE kubeproxy_sync_proxy_rules_endpoint_changes_total counter",
		"# TYPE kubeproxy_sync_proxy_rules_service_changes_pending gauge",
		"# TYPE kubeproxy_sync_proxy_rules_service_changes_total counter",
		"# TYPE kubeproxy_network_programming_duration_seconds histogram",
		`kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="internal"} 2`,
		`kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family="IPv4",traffic_policy="external"} 1`,
		"# TYPE kubeproxy_sync_proxy_rules_no_local_endpoints_total gauge",
		`kubeproxy_proxy_healthz_total{code="503"} 1`,
		`kubeproxy_proxy_livez_total{code="200"} 1`,
		`kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv4"} 3`,
		`kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total{ip_family="IPv4"} 1`,
		`kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} 120`,
		`kubeproxy_sync_proxy_rules_iptables_last{ip_family="IPv4",table="nat"} 14`,
		`kubeproxy_invalid_objects_total{kind="EndpointSlice",reason="bad-address"} 1`,
		// upstream's bucket layout: 1ms doubling, and 0 / 0.25s / 1s.. for programming latency
		`kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.001"}`,
		`kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="16.384"}`,
		`kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="0"} 0`,
		`kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="1"} 0`,
		`kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="2"} 1`,
		`kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="300"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestNetworkProgrammingBuckets(t *testing.T) {
	b := networkProgrammingBuckets()
	if len(b) != 81 || b[0] != 0 || b[1] != 0.25 || b[3] != 1 || b[61] != 59 || b[62] != 60 || b[74] != 120 || b[80] != 300 {
		t.Errorf("buckets = %v", b)
	}
}

func TestMetricsInvalidReasonsAreBounded(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	for i := range metricsMaxInvalidReasons + 10 {
		m.InvalidObject(InvalidKindService, fmt.Sprintf("reason-%d", i))
	}
	m.InvalidObject("Pod", "reason-0")
	if n := seriesCount(m.invalidObjects); n != metricsMaxInvalidReasons+2 {
		t.Errorf("%d invalid-object series, want %d (+ other for Service and for other kinds)", n, metricsMaxInvalidReasons+2)
	}
	if got := metricValue(m.invalidObjects.WithLabelValues(InvalidKindService, "other")); got != 10 {
		t.Errorf("Service/other = %v, want 10", got)
	}
}

func TestNewMetricsTwiceOnOneRegistryShares(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.CountChanges(1, 0)
	b.CountChanges(1, 0)
	if got := metricValue(a.serviceChangesTotal); got != 2 {
		t.Errorf("service changes = %v, want 2 (both Metrics on one counter)", got)
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *Metrics
	exerciseMetrics(m) // must not panic
}

// metricValue returns the value of the single counter or gauge c collects.
// (prometheus/testutil would pull a module go.mod does not list.)
func metricValue(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	go func() { c.Collect(ch); close(ch) }()
	var out dto.Metric
	for m := range ch {
		if err := m.Write(&out); err != nil {
			panic(err)
		}
	}
	switch {
	case out.Counter != nil:
		return out.Counter.GetValue()
	case out.Gauge != nil:
		return out.Gauge.GetValue()
	}
	return 0
}

// seriesCount returns how many series c collects.
func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric)
	go func() { c.Collect(ch); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	return n
}
