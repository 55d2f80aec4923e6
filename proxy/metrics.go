package proxy

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	v1 "k8s.io/api/core/v1"
)

// Label values of kubeproxy_invalid_objects_total{kind}.
const (
	InvalidKindService       = "Service"
	InvalidKindEndpointSlice = "EndpointSlice"
)

// metricsMaxInvalidReasons bounds the distinct reason labels of
// kubeproxy_invalid_objects_total; later reasons are counted as "other".
const metricsMaxInvalidReasons = 32

// Metrics holds kproxy's Prometheus collectors. The kubeproxy_* names, types, labels
// and buckets are kube-proxy's (as of Kubernetes 1.33+, with the ip_family label), so
// existing dashboards and alerts keep working. Labelled series appear once first set,
// so mode-specific ones (iptables_*, partial syncs) stay absent in other modes.
//
// All methods are safe for concurrent use and do nothing on a nil *Metrics, so code
// under test may pass nil.
type Metrics struct {
	syncDuration        *prometheus.HistogramVec // ip_family
	syncFullDuration    *prometheus.HistogramVec // ip_family
	syncPartialDuration *prometheus.HistogramVec // ip_family
	lastSync            *prometheus.GaugeVec     // ip_family
	lastQueued          *prometheus.GaugeVec     // ip_family
	networkProgramming  *prometheus.HistogramVec // ip_family
	noLocalEndpoints    *prometheus.GaugeVec     // ip_family, traffic_policy

	endpointChangesPending prometheus.Gauge
	endpointChangesTotal   prometheus.Counter
	serviceChangesPending  prometheus.Gauge
	serviceChangesTotal    prometheus.Counter

	healthz *prometheus.CounterVec // code
	livez   *prometheus.CounterVec // code

	restoreFailures        *prometheus.CounterVec // ip_family
	syncFailures           *prometheus.CounterVec // ip_family
	partialRestoreFailures *prometheus.CounterVec // ip_family
	iptablesRules          *prometheus.GaugeVec   // ip_family, table
	iptablesRulesLast      *prometheus.GaugeVec   // ip_family, table

	invalidObjects *prometheus.CounterVec // kind, reason

	mu             sync.Mutex
	invalidReasons map[string]struct{}
}

// NewMetrics creates kproxy's collectors and registers them, with the Go and process
// collectors, on reg (nil: register nowhere). Calling it again with the same registry
// returns collectors bound to the already registered ones. It panics only if reg holds
// a different metric under one of these names, a programming error.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := newMetricsUnregistered()
	if reg == nil {
		return m
	}
	metricsRegister(reg, collectors.NewGoCollector())
	metricsRegister(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.syncDuration = metricsRegister(reg, m.syncDuration)
	m.syncFullDuration = metricsRegister(reg, m.syncFullDuration)
	m.syncPartialDuration = metricsRegister(reg, m.syncPartialDuration)
	m.lastSync = metricsRegister(reg, m.lastSync)
	m.lastQueued = metricsRegister(reg, m.lastQueued)
	m.networkProgramming = metricsRegister(reg, m.networkProgramming)
	m.noLocalEndpoints = metricsRegister(reg, m.noLocalEndpoints)
	m.endpointChangesPending = metricsRegister(reg, m.endpointChangesPending)
	m.endpointChangesTotal = metricsRegister(reg, m.endpointChangesTotal)
	m.serviceChangesPending = metricsRegister(reg, m.serviceChangesPending)
	m.serviceChangesTotal = metricsRegister(reg, m.serviceChangesTotal)
	m.healthz = metricsRegister(reg, m.healthz)
	m.livez = metricsRegister(reg, m.livez)
	m.restoreFailures = metricsRegister(reg, m.restoreFailures)
	m.syncFailures = metricsRegister(reg, m.syncFailures)
	m.partialRestoreFailures = metricsRegister(reg, m.partialRestoreFailures)
	m.iptablesRules = metricsRegister(reg, m.iptablesRules)
	m.iptablesRulesLast = metricsRegister(reg, m.iptablesRulesLast)
	m.invalidObjects = metricsRegister(reg, m.invalidObjects)
	return m
}

// metricsRegister registers c on reg, or returns the equal collector already there.
func metricsRegister[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic("proxy: registering metrics: " + err.Error())
}

// ObserveSync records a successful sync of family's rules that took d and ended at
// now; full tells a full rewrite from a partial one.
func (m *Metrics) ObserveSync(family v1.IPFamily, full bool, d time.Duration, now time.Time) {
	if m == nil {
		return
	}
	m.observeDuration(family, full, d)
	m.lastSync.WithLabelValues(string(family)).Set(metricsSeconds(now))
}

// ObserveFailedSync records a sync that failed: it counts in kproxy's
// sync_proxy_rules_failures_total, the mode-independent counterpart of the
// iptables restore failure counter, and its duration in the histograms (as upstream),
// but does not move the last-sync timestamp.
func (m *Metrics) ObserveFailedSync(family v1.IPFamily, full bool, d time.Duration) {
	if m == nil {
		return
	}
	m.syncFailures.WithLabelValues(string(family)).Inc()
	m.observeDuration(family, full, d)
}

// observeDuration records a sync's duration, full or partial.
func (m *Metrics) observeDuration(family v1.IPFamily, full bool, d time.Duration) {
	m.syncDuration.WithLabelValues(string(family)).Observe(d.Seconds())
	if full {
		m.syncFullDuration.WithLabelValues(string(family)).Observe(d.Seconds())
	} else {
		m.syncPartialDuration.WithLabelValues(string(family)).Observe(d.Seconds())
	}
}

// SyncQueued records that a sync of family's rules was requested at now.
func (m *Metrics) SyncQueued(family v1.IPFamily, now time.Time) {
	if m == nil {
		return
	}
	m.lastQueued.WithLabelValues(string(family)).Set(metricsSeconds(now))
}

// CountChanges adds service and endpoint changes the watcher received.
func (m *Metrics) CountChanges(services, endpoints int) {
	if m == nil {
		return
	}
	m.serviceChangesTotal.Add(float64(max(services, 0)))
	m.endpointChangesTotal.Add(float64(max(endpoints, 0)))
}

// SetPendingChanges sets how many services and endpoint slices have changes not yet
// synced.
func (m *Metrics) SetPendingChanges(services, endpoints int) {
	if m == nil {
		return
	}
	m.serviceChangesPending.Set(float64(services))
	m.endpointChangesPending.Set(float64(endpoints))
}

// ObserveNetworkProgramming records the time from a change (an EndpointSlice's
// endpoints.kubernetes.io/last-change-trigger-time) to the sync that programmed it.
// Negative values, from clock skew between nodes, are dropped.
func (m *Metrics) ObserveNetworkProgramming(family v1.IPFamily, d time.Duration) {
	if m == nil || d < 0 {
		return
	}
	m.networkProgramming.WithLabelValues(string(family)).Observe(d.Seconds())
}

// SetNoLocalEndpoints sets, for family, how many services with a Local internal
// (resp. external) traffic policy have no local endpoint.
func (m *Metrics) SetNoLocalEndpoints(family v1.IPFamily, internal, external int) {
	if m == nil {
		return
	}
	m.noLocalEndpoints.WithLabelValues(string(family), "internal").Set(float64(internal))
	m.noLocalEndpoints.WithLabelValues(string(family), "external").Set(float64(external))
}

// ObserveHealthz counts one /healthz answer with HTTP status code.
func (m *Metrics) ObserveHealthz(code int) {
	if m == nil {
		return
	}
	m.healthz.WithLabelValues(strconv.Itoa(code)).Inc()
}

// ObserveLivez counts one /livez answer with HTTP status code.
func (m *Metrics) ObserveLivez(code int) {
	if m == nil {
		return
	}
	m.livez.WithLabelValues(strconv.Itoa(code)).Inc()
}

// IPTablesRestoreFailed counts a failed iptables-restore for family. As upstream,
// every failure counts in restore_failures_total, and a failed partial restore
// (which makes the next sync full) also in partial_restore_failures_total.
func (m *Metrics) IPTablesRestoreFailed(family v1.IPFamily, partial bool) {
	if m == nil {
		return
	}
	m.restoreFailures.WithLabelValues(string(family)).Inc()
	if partial {
		m.partialRestoreFailures.WithLabelValues(string(family)).Inc()
	}
}

// SetIPTablesRules sets, for family and table ("nat", "filter"...), how many rules
// kproxy owns in total and how many the last sync wrote.
func (m *Metrics) SetIPTablesRules(family v1.IPFamily, table string, total, written int) {
	if m == nil {
		return
	}
	m.iptablesRules.WithLabelValues(string(family), table).Set(float64(total))
	m.iptablesRulesLast.WithLabelValues(string(family), table).Set(float64(written))
}

// InvalidObject counts an object that kproxy ignored, wholly or in part. kind should
// be InvalidKindService or InvalidKindEndpointSlice (anything else counts as
// "other"); reason must be a short constant from kproxy's code, never text taken from
// the object. Past metricsMaxInvalidReasons distinct reasons, new ones count as "other".
func (m *Metrics) InvalidObject(kind, reason string) {
	if m == nil {
		return
	}
	if kind != InvalidKindService && kind != InvalidKindEndpointSlice {
		kind = "other"
	}
	m.invalidObjects.WithLabelValues(kind, m.boundedReason(reason)).Inc()
}

// boundedReason returns reason, or "other" once too many distinct reasons were seen.
func (m *Metrics) boundedReason(reason string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.invalidReasons[reason]; ok {
		return reason
	}
	if len(m.invalidReasons) >= metricsMaxInvalidReasons {
		return "other"
	}
	m.invalidReasons[reason] = struct{}{}
	return reason
}

// metricsSeconds is t as Unix seconds with sub-second precision.
func metricsSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / float64(time.Second)
}

// newMetricsUnregistered builds the collectors, registered nowhere.
func newMetricsUnregistered() *Metrics {
	family := []string{"ip_family"}
	syncBuckets := prometheus.ExponentialBuckets(0.001, 2, 15) // 1ms .. 16s
	return &Metrics{
		syncDuration: metricsHistogram("sync_proxy_rules_duration_seconds",
			"SyncProxyRules latency in seconds", syncBuckets, family),
		syncFullDuration: metricsHistogram("sync_full_proxy_rules_duration_seconds",
			"SyncProxyRules latency in seconds for full resyncs", syncBuckets, family),
		syncPartialDuration: metricsHistogram("sync_partial_proxy_rules_duration_seconds",
			"SyncProxyRules latency in seconds for partial resyncs", syncBuckets, family),
		lastSync: metricsGauge("sync_proxy_rules_last_timestamp_seconds",
			"The last time proxy rules were successfully synced", family...),
		lastQueued: metricsGauge("sync_proxy_rules_last_queued_timestamp_seconds",
			"The last time a sync of proxy rules was queued", family...),
		networkProgramming: metricsHistogram("network_programming_duration_seconds",
			"In Cluster Network Programming Latency in seconds", networkProgrammingBuckets(), family),
		noLocalEndpoints: metricsGauge("sync_proxy_rules_no_local_endpoints_total",
			"Number of services with a Local traffic policy and no endpoints", "ip_family", "traffic_policy"),

		endpointChangesPending: prometheus.NewGauge(prometheus.GaugeOpts(metricsOpts(
			"sync_proxy_rules_endpoint_changes_pending", "Pending proxy rules Endpoint changes"))),
		endpointChangesTotal: prometheus.NewCounter(prometheus.CounterOpts(metricsOpts(
			"sync_proxy_rules_endpoint_changes_total", "Cumulative proxy rules Endpoint changes"))),
		serviceChangesPending: prometheus.NewGauge(prometheus.GaugeOpts(metricsOpts(
			"sync_proxy_rules_service_changes_pending", "Pending proxy rules Service changes"))),
		serviceChangesTotal: prometheus.NewCounter(prometheus.CounterOpts(metricsOpts(
			"sync_proxy_rules_service_changes_total", "Cumulative proxy rules Service changes"))),

		healthz: metricsCounter("proxy_healthz_total", "Cumulative proxy healthz HTTP status", "code"),
		livez:   metricsCounter("proxy_livez_total", "Cumulative proxy livez HTTP status", "code"),

		syncFailures: metricsCounter("sync_proxy_rules_failures_total",
			"Cumulative failed syncs of any mode (iptables-restore, IPVS, netlink, ipset, listeners)", family...),
		restoreFailures: metricsCounter("sync_proxy_rules_iptables_restore_failures_total",
			"Cumulative proxy iptables restore failures", family...),
		partialRestoreFailures: metricsCounter("sync_proxy_rules_iptables_partial_restore_failures_total",
			"Cumulative proxy iptables partial restore failures", family...),
		iptablesRules: metricsGauge("sync_proxy_rules_iptables_total",
			"Total number of iptables rules owned by kube-proxy", "ip_family", "table"),
		iptablesRulesLast: metricsGauge("sync_proxy_rules_iptables_last",
			"Number of iptables rules written by kube-proxy in last sync", "ip_family", "table"),

		invalidObjects: metricsCounter("invalid_objects_total",
			"Services and EndpointSlices kproxy ignored in whole or in part, by reason", "kind", "reason"),
		invalidReasons: make(map[string]struct{}),
	}
}

// networkProgrammingBuckets are upstream's: 0, 0.25s, 0.5s, 1s..59s by 1s,
// 60s..115s by 5s, 120s..300s by 30s.
func networkProgrammingBuckets() []float64 {
	b := []float64{0}
	b = append(b, prometheus.LinearBuckets(0.25, 0.25, 2)...)
	b = append(b, prometheus.LinearBuckets(1, 1, 59)...)
	b = append(b, prometheus.LinearBuckets(60, 5, 12)...)
	return append(b, prometheus.LinearBuckets(120, 30, 7)...)
}

// metricsOpts returns options for a kubeproxy_<name> metric.
func metricsOpts(name, help string) prometheus.Opts {
	return prometheus.Opts{Subsystem: "kubeproxy", Name: name, Help: help}
}

func metricsGauge(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts(metricsOpts(name, help)), labels)
}

func metricsCounter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts(metricsOpts(name, help)), labels)
}

func metricsHistogram(name, help string, buckets []float64, labels []string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Subsystem: "kubeproxy", Name: name, Help: help, Buckets: buckets,
	}, labels)
}
