package main

import (
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// TestHistogram checks the answer histogram: one '#' per answer, aligned
// columns, bars scaled down past maxBarWidth, failures on their own row.
func TestHistogram(t *testing.T) {
	tests := []struct {
		name string
		r    traffic.Result
		want []string
	}{{
		name: "one mark per answer, pods sorted",
		r:    traffic.Result{Sent: 5, Pods: map[string]int{"web-2": 2, "web-1": 3}},
		want: []string{
			"web-1 on node  ###   3",
			"web-2 on node  ##    2",
		},
	}, {
		name: "unanswered attempts get a row saying why",
		r:    traffic.Result{Sent: 4, Pods: map[string]int{"web-1": 1}, TimedOut: 3, Errors: []string{"i/o timeout"}},
		want: []string{
			"web-1 on node  #     1",
			"no answer      ###   3  refused 0, timed out 3, reset 0, other 0 (i/o timeout)",
		},
	}, {
		name: "long bars are scaled",
		r:    traffic.Result{Sent: 120, Pods: map[string]int{"a": 80, "b": 40}},
		want: []string{
			"a on node  ########################################  80",
			"b on node  ####################                      40",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := histogram(answerRows(tt.r, func(p string) string { return p + " on node" }))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestSourcesLine checks the line telling whom the pods saw as client.
func TestSourcesLine(t *testing.T) {
	r := traffic.Result{Clients: map[string]int{"10.200.0.11": 13, "10.244.1.1": 17}}
	describe := func(ip string) string {
		if ip == "10.200.0.11" {
			return "node-1's IP: masqueraded"
		}
		return ""
	}
	want := "10.200.0.11 x13 (node-1's IP: masqueraded), 10.244.1.1 x17"
	if got := sourcesLine(r, describe); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := sourcesLine(traffic.Result{}, describe); got != "none" {
		t.Errorf("no answers: got %q, want none", got)
	}
}

// TestSyncMetrics checks the metrics section against kproxy's exposition
// text, and that a missing metric is named.
func TestSyncMetrics(t *testing.T) {
	text := `# HELP kubeproxy_sync_proxy_rules_duration_seconds SyncProxyRules latency in seconds
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.001"} 0
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 0.02
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 4
kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1.7e+09
kubeproxy_sync_proxy_rules_endpoint_changes_total 7
`
	now := time.Unix(1_700_000_002, 0)
	lines, missing := syncMetrics(text, now)
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"kubeproxy_sync_proxy_rules_duration_seconds          count 4, sum 20ms (mean 5ms per sync)",
		"kubeproxy_sync_proxy_rules_last_timestamp_seconds    1700000000.000 (",
		", 2s ago)",
		"kubeproxy_sync_proxy_rules_endpoint_changes_total    7",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	wantMissing := "kubeproxy_network_programming_duration_seconds_count,kubeproxy_network_programming_duration_seconds_sum"
	if strings.Join(missing, ",") != wantMissing {
		t.Errorf("missing = %q, want %q", missing, wantMissing)
	}
}

// TestStateExcerpt checks that the excerpt keeps the family headers and
// the chosen services with their endpoints, and names what it left out.
func TestStateExcerpt(t *testing.T) {
	state := `family IPv4 node node-1 zone zone-a ip 10.200.0.11
service default/kubernetes:https TCP 10.96.0.1:443
  endpoint 10.200.0.1:6443 ready serving selected=cluster
service default/web:tcp TCP 10.96.0.20:80
  endpoint 10.244.1.2:8080 ready serving local node=node-1 selected=cluster
service default/web:udp UDP 10.96.0.20:80
service default/webby:tcp TCP 10.96.0.30:80
  endpoint 10.244.1.3:8080 ready serving local node=node-1 selected=cluster
family IPv6 node node-1 zone zone-a

`
	lines, omitted := stateExcerpt(state, func(s string) bool { return s == "default/web" })
	want := []string{
		"family IPv4 node node-1 zone zone-a ip 10.200.0.11",
		"service default/web:tcp TCP 10.96.0.20:80",
		"  endpoint 10.244.1.2:8080 ready serving local node=node-1 selected=cluster",
		"service default/web:udp UDP 10.96.0.20:80",
		"family IPv6 node node-1 zone zone-a",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(omitted, ",") != "default/kubernetes:https,default/webby:tcp" {
		t.Errorf("omitted = %q", omitted)
	}
}
