package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Config is what a Server needs; cmd/kproxy fills it from flags and the config file.
type Config struct {
	Client   kubernetes.Interface
	NodeName string
	// Backends programs each IP family the node serves (one for single stack).
	Backends []FamilyBackend
	// MinSyncPeriod and SyncPeriod bound how often rules are synced.
	MinSyncPeriod, SyncPeriod time.Duration
	// ConfigSyncPeriod is the informers' resync period.
	ConfigSyncPeriod time.Duration
	// MetricsAddr and HealthzAddr are listen addresses; "" disables the listener.
	MetricsAddr, HealthzAddr string
	// Registry receives kproxy's metrics; a new one is made when nil.
	Registry *prometheus.Registry
	// Metrics are the collectors registered on Registry, when the caller made them
	// already (to share them with backends); made when nil.
	Metrics *Metrics
	// Clock drives the runner and health checks; the real clock when nil.
	Clock clock.WithTicker
	// Canary, when set, is checked once per SyncPeriod; when it reports that kproxy's
	// rules were flushed by someone else, the next sync is full and runs at once.
	Canary func(ctx context.Context) (flushed bool, err error)
}

// Server is one running kproxy: watcher, table, syncer, runner, metrics and healthz.
type Server struct {
	cfg     Config
	Table   *Table
	Watcher *Watcher
	Syncer  *Syncer
	Runner  *Runner
	Metrics *Metrics
	Health  *HealthServer
	Events  *NodeEvents
	// ServiceHealth serves the health-check node ports of externalTrafficPolicy Local services.
	ServiceHealth *ServiceHealthServer

	failures int             // syncs failed in a row, touched by the runner goroutine only
	runCtx   context.Context // set by Run before the runner loop starts
}

// NewServer wires the parts together; nothing runs before Run.
func NewServer(cfg Config) *Server {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(cfg.Registry)
	}
	s := &Server{cfg: cfg, Table: NewTable(cfg.NodeName), Metrics: cfg.Metrics,
		Events: NewNodeEvents(cfg.Client, cfg.NodeName)}
	s.Health = NewHealthServer(cfg.HealthzAddr, 2*cfg.SyncPeriod, cfg.Clock, s.Metrics)
	s.Syncer = NewSyncer(s.Table, cfg.Backends, s.Metrics, s.Health, cfg.Clock)
	s.ServiceHealth = NewServiceHealthServer(func() bool { return s.Health.Report().Healthy })
	s.Syncer.serviceHealth = s.ServiceHealth
	s.Watcher = NewWatcher(cfg.Client, s.Table, cfg.NodeName, cfg.ConfigSyncPeriod, WatchHooks{
		Changed: s.changed,
		Node:    s.Health.SyncNode,
		Invalid: s.invalid,
		Event:   s.countEvent,
	})
	s.Runner = NewRunner("sync", s.sync,
		cfg.MinSyncPeriod, cfg.SyncPeriod, cfg.Clock)
	return s
}

// MetricsHandler is the mux of the metrics listener, with /debug/state.
func (s *Server) MetricsHandler() http.Handler {
	return NewMetricsMux(s.cfg.Registry, map[string]http.Handler{"/debug/state": s.Syncer.DebugState()})
}

// Run starts the watcher, waits until Services and EndpointSlices are listed, then syncs
// until ctx is done. The listeners start at once, so /livez answers during the wait.
func (s *Server) Run(ctx context.Context) error {
	defer s.Events.Stop()
	defer s.ServiceHealth.Close()
	errc := make(chan error, 2)
	s.serve(ctx, s.cfg.MetricsAddr, s.MetricsHandler(), errc)
	s.serve(ctx, s.cfg.HealthzAddr, s.Health.Handler(), errc)
	s.Watcher.Start(ctx.Done())
	klog.InfoS("Waiting for Services and EndpointSlices to be listed")
	if !s.Watcher.WaitForSync(ctx.Done()) {
		return ctx.Err()
	}
	s.runCtx = ctx
	s.Runner.Run()
	go s.Runner.Loop(ctx.Done())
	if s.cfg.Canary != nil {
		go s.watchCanary(ctx)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// sync is one run of the runner: it syncs and records an event on the Node when syncs
// keep failing.
func (s *Server) sync() error {
	err := s.Syncer.Sync(s.runCtx)
	if err == nil {
		s.failures = 0
		return nil
	}
	s.failures++
	if s.failures == failedSyncsBeforeEvent {
		s.Events.SyncFailing(s.failures, err)
	}
	return err
}

// invalid counts a part of an object kproxy cannot program and records an event.
func (s *Server) invalid(kind, object, problem string) {
	s.Metrics.InvalidObject(kind, invalidReason(problem))
	s.Events.Invalid(kind, object, problem)
}

// watchCanary checks the canary once per sync period and forces a full sync when
// kproxy's rules were flushed.
func (s *Server) watchCanary(ctx context.Context) {
	ticker := s.cfg.Clock.NewTicker(s.cfg.SyncPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
		flushed, err := s.cfg.Canary(ctx)
		if err != nil {
			klog.ErrorS(err, "Checking the canary chain failed")
			continue
		}
		if flushed {
			klog.InfoS("kproxy's rules were flushed by someone else; resyncing everything")
			s.Syncer.ForceFull()
			s.Runner.Run()
		}
	}
}

// serve runs one listener in the background; "" disables it.
func (s *Server) serve(ctx context.Context, addr string, h http.Handler, errc chan<- error) {
	if addr == "" {
		return
	}
	go func() {
		if err := Serve(ctx, addr, h); err != nil && !errors.Is(err, context.Canceled) {
			errc <- err
		}
	}()
}

// changed records a pending change and asks for a sync.
func (s *Server) changed() {
	s.Syncer.Queued()
	s.Runner.Run()
}

// countEvent counts watcher events and refreshes the pending gauges.
func (s *Server) countEvent(kind string) {
	if kind == InvalidKindService {
		s.Metrics.CountChanges(1, 0)
	} else {
		s.Metrics.CountChanges(0, 1)
	}
	s.Metrics.SetPendingChanges(s.Table.Services.Pending(), s.Table.Endpoints.Pending())
}

// invalidReason turns a problem description into a short, bounded metric label.
func invalidReason(problem string) string {
	for _, r := range []struct{ substr, reason string }{
		{"not an IP", "invalid_ip"},
		{"not IPv", "wrong_family"},
		{"not a CIDR", "invalid_cidr"},
		{"protocol", "unknown_protocol"},
		{"out of range", "port_out_of_range"},
		{"no number", "port_missing"},
		{"service-name label", "no_service_label"},
		{"without addresses", "no_address"},
	} {
		if strings.Contains(problem, r.substr) {
			return r.reason
		}
	}
	return "invalid"
}
