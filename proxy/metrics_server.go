package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
)

// serveShutdownGrace is how long Serve lets requests in flight finish once its context
// is done.
const serveShutdownGrace = 5 * time.Second

// NewMetricsMux returns the mux of the metrics listener (kube-proxy's
// --metrics-bind-address, default 127.0.0.1:10249): /metrics from reg, /healthz
// answering "ok" while the process serves, and the extra handlers by path. An extra
// path that is empty, reserved or has a nil handler is skipped with an error log.
func NewMetricsMux(reg *prometheus.Registry, extra map[string]http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte("ok"))
	})
	paths := make([]string, 0, len(extra))
	for p := range extra {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if p == "" || p == "/metrics" || p == "/healthz" || extra[p] == nil {
			klog.ErrorS(nil, "Skipping metrics server handler", "path", p)
			continue
		}
		mux.Handle(p, extra[p])
	}
	return mux
}

// Serve listens on addr (TCP) and serves h until ctx is done, then shuts down,
// giving requests in flight a few seconds. It returns nil after a shutdown caused by
// ctx, and an error if it cannot listen or the server stops on its own.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return serveListener(ctx, ln, h)
}

// serveListener is Serve on an open listener, which it closes.
func serveListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("shutting down server on %s: %w", ln.Addr(), err)
	}
	return nil
}
