package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrapeMetrics fetches /metrics from the metrics mux of reg.
func scrapeMetrics(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	code, body := serveGet(t, NewMetricsMux(reg, nil), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	return body
}

func serveGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestMetricsMuxRoutes(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	NewMetrics(reg).CountChanges(1, 1)
	state := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "state") })
	mux := NewMetricsMux(reg, map[string]http.Handler{
		"/debug/state": state,
		"/metrics":     state, // reserved: must not replace the real one
		"/nil":         nil,
	})
	tests := []struct {
		path     string
		wantCode int
		wantBody string
	}{
		{"/metrics", 200, "kubeproxy_sync_proxy_rules_service_changes_total 1"},
		{"/healthz", 200, "ok"},
		{"/debug/state", 200, "state"},
		{"/nil", 404, ""},
	}
	for _, tc := range tests {
		code, body := serveGet(t, mux, tc.path)
		if code != tc.wantCode || !strings.Contains(body, tc.wantBody) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tc.path, code, body, tc.wantCode, tc.wantBody)
		}
	}
}

// TestServeShutsDownWithContext serves on a loopback port, then cancels the context:
// serving must stop, the port must be released, and the result must be nil.
func TestServeShutsDownWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveListener(ctx, ln, NewMetricsMux(prometheus.NewRegistry(), nil)) }()

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Errorf("/healthz body %q, want ok", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestServeReportsListenError(t *testing.T) {
	err := Serve(context.Background(), "not-an-address", http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "not-an-address") {
		t.Errorf("Serve(bad addr) = %v, want a listen error naming the address", err)
	}
}
