package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

const testHealthTimeout = 60 * time.Second

var healthT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// healthStep changes the server's state, then checks both endpoints.
type healthStep struct {
	do          func(hs *HealthServer, clk *clocktesting.FakePassiveClock)
	wantHealthz int
	wantLivez   int
}

func healthQueue(f v1.IPFamily) func(*HealthServer, *clocktesting.FakePassiveClock) {
	return func(hs *HealthServer, _ *clocktesting.FakePassiveClock) { hs.QueuedUpdate(f) }
}

func healthUpdate(f v1.IPFamily) func(*HealthServer, *clocktesting.FakePassiveClock) {
	return func(hs *HealthServer, _ *clocktesting.FakePassiveClock) { hs.Updated(f) }
}

func healthWait(d time.Duration) func(*HealthServer, *clocktesting.FakePassiveClock) {
	return func(_ *HealthServer, clk *clocktesting.FakePassiveClock) { clk.SetTime(clk.Now().Add(d)) }
}

func healthNode(mutate func(*v1.Node)) func(*HealthServer, *clocktesting.FakePassiveClock) {
	return func(hs *HealthServer, _ *clocktesting.FakePassiveClock) {
		n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
		if mutate != nil {
			mutate(n)
		}
		hs.SyncNode(n)
	}
}

func TestHealthServerStates(t *testing.T) {
	const ok, bad = http.StatusOK, http.StatusServiceUnavailable
	ipv4, ipv6 := v1.IPv4Protocol, v1.IPv6Protocol
	deleting := func(n *v1.Node) { n.DeletionTimestamp = &metav1.Time{Time: healthT0} }
	tainted := func(n *v1.Node) {
		n.Spec.Taints = []v1.Taint{{Key: ToBeDeletedTaintKey, Effect: v1.TaintEffectNoSchedule}}
	}
	tests := []struct {
		name  string
		steps []healthStep
	}{{
		name: "healthy before anything is queued",
		steps: []healthStep{
			{do: healthWait(0), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(10 * time.Minute), wantHealthz: ok, wantLivez: ok},
		},
	}, {
		name: "queued update is fine until the timeout, then stale, and an update heals",
		steps: []healthStep{
			{do: healthUpdate(ipv4), wantHealthz: ok, wantLivez: ok},
			{do: healthQueue(ipv4), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(testHealthTimeout - time.Second), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(time.Second), wantHealthz: bad, wantLivez: bad},
			{do: healthUpdate(ipv4), wantHealthz: ok, wantLivez: ok},
		},
	}, {
		name: "later queues do not reset the oldest pending one",
		steps: []healthStep{
			{do: healthQueue(ipv4), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(testHealthTimeout / 2), wantHealthz: ok, wantLivez: ok},
			{do: healthQueue(ipv4), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(testHealthTimeout / 2), wantHealthz: bad, wantLivez: bad},
		},
	}, {
		name: "a family that never applied its first update turns unhealthy",
		steps: []healthStep{
			{do: healthQueue(ipv6), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(2 * testHealthTimeout), wantHealthz: bad, wantLivez: bad},
		},
	}, {
		name: "one stale family makes the proxy unhealthy",
		steps: []healthStep{
			{do: healthUpdate(ipv4), wantHealthz: ok, wantLivez: ok},
			{do: healthUpdate(ipv6), wantHealthz: ok, wantLivez: ok},
			{do: healthQueue(ipv6), wantHealthz: ok, wantLivez: ok},
			{do: healthWait(testHealthTimeout), wantHealthz: bad, wantLivez: bad},
			{do: healthUpdate(ipv4), wantHealthz: bad, wantLivez: bad},
			{do: healthUpdate(ipv6), wantHealthz: ok, wantLivez: ok},
		},
	}, {
		name: "a node being deleted fails healthz but not livez",
		steps: []healthStep{
			{do: healthNode(nil), wantHealthz: ok, wantLivez: ok},
			{do: healthNode(deleting), wantHealthz: bad, wantLivez: ok},
			{do: healthNode(nil), wantHealthz: ok, wantLivez: ok},
		},
	}, {
		name: "the autoscaler's to-be-deleted taint fails healthz",
		steps: []healthStep{
			{do: healthNode(tainted), wantHealthz: bad, wantLivez: ok},
		},
	}, {
		name: "a deleted node object fails healthz",
		steps: []healthStep{
			{do: func(hs *HealthServer, _ *clocktesting.FakePassiveClock) { hs.SyncNode(nil) }, wantHealthz: bad, wantLivez: ok},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(healthT0)
			hs := NewHealthServer("", testHealthTimeout, clk, nil)
			h := hs.Handler()
			for i, s := range tc.steps {
				s.do(hs, clk)
				if code, body := serveGet(t, h, "/healthz"); code != s.wantHealthz {
					t.Errorf("step %d: /healthz = %d %s, want %d", i, code, body, s.wantHealthz)
				}
				if code, body := serveGet(t, h, "/livez"); code != s.wantLivez {
					t.Errorf("step %d: /livez = %d %s, want %d", i, code, body, s.wantLivez)
				}
			}
		})
	}
}

func TestHealthServerBody(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(healthT0)
	hs := NewHealthServer("", testHealthTimeout, clk, nil)
	hs.Updated(v1.IPv4Protocol)
	hs.QueuedUpdate(v1.IPv4Protocol)
	clk.SetTime(healthT0.Add(2 * testHealthTimeout))
	now := clk.Now()

	tests := []struct {
		path             string
		wantCode         int
		wantLastUpdated  time.Time
		wantNodeEligible *bool
	}{
		{"/healthz", 503, healthT0, new(true)},
		{"/livez", 503, healthT0, nil},
	}
	for _, tc := range tests {
		code, body := serveGet(t, hs.Handler(), tc.path)
		var got HealthReport
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: bad JSON %q: %v", tc.path, body, err)
		}
		if code != tc.wantCode || got.Healthy || !got.CurrentTime.Equal(now) || !got.LastUpdated.Equal(tc.wantLastUpdated) {
			t.Errorf("%s = %d %+v, want %d, unhealthy, currentTime %v, lastUpdated %v", tc.path, code, got, tc.wantCode, now, tc.wantLastUpdated)
		}
		if (got.NodeEligible == nil) != (tc.wantNodeEligible == nil) {
			t.Errorf("%s: nodeEligible = %v, want present=%v", tc.path, got.NodeEligible, tc.wantNodeEligible != nil)
		}
		if fh := got.Status[v1.IPv4Protocol]; fh.Healthy || !fh.LastUpdated.Equal(healthT0) {
			t.Errorf("%s: IPv4 status = %+v, want unhealthy, last updated %v", tc.path, fh, healthT0)
		}
	}

	// Healthy again: lastUpdated reads as now, as kube-proxy reports it.
	hs.Updated(v1.IPv4Protocol)
	clk.SetTime(now.Add(time.Second))
	_, body := serveGet(t, hs.Handler(), "/healthz")
	var got HealthReport
	if err := json.Unmarshal([]byte(body), &got); err != nil || !got.Healthy || !got.LastUpdated.Equal(clk.Now()) {
		t.Errorf("healthy /healthz body %s (err %v): want healthy with lastUpdated = currentTime", body, err)
	}
}

func TestHealthServerCountsAnswers(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(healthT0)
	m := NewMetrics(prometheus.NewPedanticRegistry())
	hs := NewHealthServer("", testHealthTimeout, clk, m)
	h := hs.Handler()
	serveGet(t, h, "/healthz")
	serveGet(t, h, "/livez")
	hs.SyncNode(nil)
	serveGet(t, h, "/healthz")
	serveGet(t, h, "/healthz")
	serveGet(t, h, "/livez")
	for _, c := range []struct {
		counter prometheus.Collector
		want    float64
	}{
		{m.healthz.WithLabelValues("200"), 1},
		{m.healthz.WithLabelValues("503"), 2},
		{m.livez.WithLabelValues("200"), 2},
		{m.livez.WithLabelValues("503"), 0},
	} {
		if got := metricValue(c.counter); got != c.want {
			desc := make(chan *prometheus.Desc, 1)
			c.counter.Describe(desc)
			t.Errorf("%v = %v, want %v", <-desc, got, c.want)
		}
	}
}

func TestHealthServerRunWithoutAddressWaitsForContext(t *testing.T) {
	hs := NewHealthServer("", testHealthTimeout, clocktesting.NewFakePassiveClock(healthT0), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := hs.Run(ctx); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}
