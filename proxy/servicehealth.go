package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

// ServiceHealthServer answers the health-check node ports of externalTrafficPolicy Local
// services, as kube-proxy does: load balancers ask every node, and only nodes with local
// endpoints answer 200. The body is JSON and the header X-Load-Balancing-Endpoint-Weight
// carries the number of local endpoints. It is safe for concurrent use.
type ServiceHealthServer struct {
	listen  func(port uint16) (net.Listener, error)
	healthy func() bool

	mu      sync.Mutex
	servers map[uint16]*healthCheckServer
}

// HealthCheck is what one service's health-check node port reports.
type HealthCheck struct {
	Service        types.NamespacedName
	Port           uint16
	LocalEndpoints int
}

// healthCheckServer serves one service's health-check port.
type healthCheckServer struct {
	service types.NamespacedName
	local   atomic.Int64
	server  *http.Server
}

// NewServiceHealthServer returns a server that listens on every address of the node.
// healthy reports kproxy's own health (a stale proxy answers 503 everywhere); nil means
// always healthy.
func NewServiceHealthServer(healthy func() bool) *ServiceHealthServer {
	return newServiceHealthServer(func(port uint16) (net.Listener, error) {
		return net.Listen("tcp", ":"+strconv.Itoa(int(port)))
	}, healthy)
}

// newServiceHealthServer takes the listen function, for tests.
func newServiceHealthServer(listen func(uint16) (net.Listener, error), healthy func() bool) *ServiceHealthServer {
	if healthy == nil {
		healthy = func() bool { return true }
	}
	return &ServiceHealthServer{listen: listen, healthy: healthy, servers: map[uint16]*healthCheckServer{}}
}

// Sync opens a listener for every health check that has none, updates the local endpoint
// counts, and closes the listeners of services that are gone. A port that cannot be
// opened is logged and tried again at the next Sync.
func (s *ServiceHealthServer) Sync(checks []HealthCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wanted := make(map[uint16]HealthCheck, len(checks))
	for _, c := range checks {
		wanted[c.Port] = c
	}
	for port, srv := range s.servers {
		if c, ok := wanted[port]; !ok || c.Service != srv.service {
			_ = srv.server.Close()
			delete(s.servers, port)
		}
	}
	for port, c := range wanted {
		srv, ok := s.servers[port]
		if !ok {
			var err error
			if srv, err = s.start(c); err != nil {
				klog.ErrorS(err, "Cannot serve the health-check node port", "service", c.Service, "port", port)
				continue
			}
			s.servers[port] = srv
		}
		srv.local.Store(int64(c.LocalEndpoints))
	}
}

// Close stops every listener.
func (s *ServiceHealthServer) Close() {
	s.Sync(nil)
}

// start opens and serves one health-check port.
func (s *ServiceHealthServer) start(c HealthCheck) (*healthCheckServer, error) {
	ln, err := s.listen(c.Port)
	if err != nil {
		return nil, fmt.Errorf("listening on port %d: %w", c.Port, err)
	}
	srv := &healthCheckServer{service: c.Service}
	srv.server = &http.Server{Handler: srv.handler(s.healthy), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "Health-check node port stopped", "service", c.Service, "port", c.Port)
		}
	}()
	return srv, nil
}

// healthCheckBody is kube-proxy's health-check answer.
type healthCheckBody struct {
	Service struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"service"`
	LocalEndpoints      int  `json:"localEndpoints"`
	ServiceProxyHealthy bool `json:"serviceProxyHealthy"`
}

// handler answers 200 when the service has local endpoints and kproxy is healthy.
func (srv *healthCheckServer) handler(healthy func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var body healthCheckBody
		body.Service.Namespace, body.Service.Name = srv.service.Namespace, srv.service.Name
		body.LocalEndpoints = int(srv.local.Load())
		body.ServiceProxyHealthy = healthy()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Load-Balancing-Endpoint-Weight", strconv.Itoa(body.LocalEndpoints))
		code := http.StatusServiceUnavailable
		if body.LocalEndpoints > 0 && body.ServiceProxyHealthy {
			code = http.StatusOK
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
}

// healthChecks lists the health checks of a snapshot: for each service with a
// health-check node port, its largest number of local endpoints over its ports.
func healthChecks(snaps []*Snapshot) []HealthCheck {
	byService := map[types.NamespacedName]HealthCheck{}
	for _, snap := range snaps {
		for _, svc := range snap.Services {
			if svc.HealthCheckNodePort == 0 {
				continue
			}
			c := byService[svc.Name.NamespacedName]
			c.Service, c.Port = svc.Name.NamespacedName, svc.HealthCheckNodePort
			c.LocalEndpoints = max(c.LocalEndpoints, len(svc.Endpoints.Local))
			byService[svc.Name.NamespacedName] = c
		}
	}
	out := make([]HealthCheck, 0, len(byService))
	for _, c := range byService {
		out = append(out, c)
	}
	return out
}
