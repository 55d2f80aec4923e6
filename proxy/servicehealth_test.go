package proxy

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	v1 "k8s.io/api/core/v1"
)

// loopbackPorts listens on a free loopback port for each requested health-check port and
// remembers where, so tests can reach "port N".
type loopbackPorts struct {
	mu    sync.Mutex
	addrs map[uint16]string
}

func (l *loopbackPorts) listen(port uint16) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		l.mu.Lock()
		l.addrs[port] = ln.Addr().String()
		l.mu.Unlock()
	}
	return ln, err
}

// get asks health-check port N; code 0 means the connection failed.
func (l *loopbackPorts) get(t *testing.T, port uint16) (code int, weight string, body healthCheckBody) {
	t.Helper()
	l.mu.Lock()
	addr := l.addrs[port]
	l.mu.Unlock()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		return 0, "", body
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", data, err)
	}
	return resp.StatusCode, resp.Header.Get("X-Load-Balancing-Endpoint-Weight"), body
}

func TestServiceHealthServer(t *testing.T) {
	ports := &loopbackPorts{addrs: map[uint16]string{}}
	var healthy atomic.Bool
	healthy.Store(true)
	s := newServiceHealthServer(ports.listen, healthy.Load)
	defer s.Close()
	a, b := nsName("a"), nsName("b")
	steps := []struct {
		name       string
		checks     []HealthCheck
		unhealthy  bool
		port       uint16
		wantCode   int // 0: nothing listens
		wantWeight string
	}{
		{name: "local endpoints answer 200", checks: []HealthCheck{{a, 30001, 2}, {b, 30002, 0}}, port: 30001, wantCode: 200, wantWeight: "2"},
		{name: "no local endpoints answer 503", checks: []HealthCheck{{a, 30001, 2}, {b, 30002, 0}}, port: 30002, wantCode: 503, wantWeight: "0"},
		{name: "endpoint count follows syncs", checks: []HealthCheck{{a, 30001, 0}, {b, 30002, 3}}, port: 30002, wantCode: 200, wantWeight: "3"},
		{name: "stale proxy answers 503", checks: []HealthCheck{{a, 30001, 1}}, unhealthy: true, port: 30001, wantCode: 503, wantWeight: "1"},
		{name: "removed service closes its port", checks: []HealthCheck{{a, 30001, 1}}, port: 30002, wantCode: 0},
	}
	for _, step := range steps {
		healthy.Store(!step.unhealthy)
		s.Sync(step.checks)
		code, weight, body := ports.get(t, step.port)
		if code != step.wantCode || weight != step.wantWeight {
			t.Errorf("%s: code %d weight %q, want %d %q", step.name, code, weight, step.wantCode, step.wantWeight)
		}
		if code != 0 && (body.Service.Namespace != "ns" || body.ServiceProxyHealthy == step.unhealthy) {
			t.Errorf("%s: body = %+v", step.name, body)
		}
	}
}

func TestHealthChecksFromSnapshots(t *testing.T) {
	table := NewTable("node-a")
	svc := newTestService("a", "10.96.0.1", func(s *v1.Service) {
		s.Spec.Type = "LoadBalancer"
		s.Spec.ExternalTrafficPolicy = "Local"
		s.Spec.HealthCheckNodePort = 32000
	})
	table.Services.Update(nil, svc)
	slice := newTestSlice("a", "a-1", "10.0.0.1", "10.0.0.2")
	slice.Endpoints[1].NodeName = ptrTo("node-b")
	table.Endpoints.Update(slice, false)
	table.Apply()
	checks := healthChecks([]*Snapshot{table.Snapshot("IPv4"), table.Snapshot("IPv6")})
	if len(checks) != 1 || checks[0].Port != 32000 || checks[0].LocalEndpoints != 1 || checks[0].Service != nsName("a") {
		t.Fatalf("checks = %+v, want one on 32000 with 1 local endpoint", checks)
	}
}
