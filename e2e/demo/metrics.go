package main

import (
	"fmt"
	"math"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// Metrics the demo shows, as kube-proxy names them.
const (
	metricSyncDuration   = "kubeproxy_sync_proxy_rules_duration_seconds"
	metricLastSync       = "kubeproxy_sync_proxy_rules_last_timestamp_seconds"
	metricEndpointChange = "kubeproxy_sync_proxy_rules_endpoint_changes_total"
	metricNetProgramming = "kubeproxy_network_programming_duration_seconds"
)

// syncMetrics summarises kproxy's sync metrics from its /metrics text, one
// line per metric, and names the metrics it could not find.
func syncMetrics(text string, now time.Time) (lines, missing []string) {
	get := func(name string) (float64, bool) {
		v, ok := framework.MetricValue(text, name, nil)
		if !ok {
			missing = append(missing, name)
		}
		return v, ok
	}
	row := func(name, value string) {
		lines = append(lines, fmt.Sprintf("%-52s %s", name, value))
	}

	count, okC := get(metricSyncDuration + "_count")
	sum, okS := get(metricSyncDuration + "_sum")
	if okC && okS {
		row(metricSyncDuration, fmt.Sprintf("count %g, sum %s%s", count, seconds(sum), mean(sum, count, "per sync")))
	}
	if last, ok := get(metricLastSync); ok {
		at := time.Unix(0, int64(last*float64(time.Second)))
		row(metricLastSync, fmt.Sprintf("%.3f (%s, %s ago)", last, at.Format("15:04:05.000"), seconds(now.Sub(at).Seconds())))
	}
	if changes, ok := get(metricEndpointChange); ok {
		row(metricEndpointChange, fmt.Sprintf("%g", changes))
	}
	npCount, okC := get(metricNetProgramming + "_count")
	npSum, okS := get(metricNetProgramming + "_sum")
	if okC && okS {
		row(metricNetProgramming, fmt.Sprintf("count %g, sum %s%s", npCount, seconds(npSum), mean(npSum, npCount, "per change")))
	}
	return lines, missing
}

// mean formats ", mean <sum/count> <what>", or nothing when count is 0.
func mean(sum, count float64, what string) string {
	if count == 0 {
		return ""
	}
	return fmt.Sprintf(" (mean %s %s)", seconds(sum/count), what)
}

// seconds formats a duration in seconds readably: "4.2ms", "1.25s".
func seconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return fmt.Sprintf("%gs", s)
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
