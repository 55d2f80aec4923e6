package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// freeAddr returns a loopback address nobody listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// serveOn starts an HTTP server on addr answering status, counting requests.
// It may run on a timer's goroutine, so it reports failures with Error.
func serveOn(t *testing.T, addr string, status int, hits *atomic.Int32) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(status)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
}

// closeOn accepts connections on addr and closes each at once, as a load
// balancer with every backend down does, until the listener it returns is
// closed.
func closeOn(t *testing.T, addr string) net.Listener {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l
}

// TestRetryClosedByFrontEnd: a read waits while something in front of the
// API server accepts and closes its connections.
func TestRetryClosedByFrontEnd(t *testing.T) {
	addr := freeAddr(t)
	front := closeOn(t, addr)
	var hits atomic.Int32
	timer := time.AfterFunc(700*time.Millisecond, func() { front.Close(); serveOn(t, addr, 200, &hits) })
	t.Cleanup(func() { timer.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/services", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := wrapRetryUnreachable(&http.Transport{DisableKeepAlives: true}).RoundTrip(req)
	if err != nil {
		t.Fatalf("the read failed (%v); want it to wait for the server behind the front end", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || hits.Load() != 1 {
		t.Errorf("status %d with %d requests served, want 200 and 1", resp.StatusCode, hits.Load())
	}
}

// TestRetryUnreachable: reads wait for an API server that comes back, writes
// and the server's own answers are never retried, and a cancelled request
// stops waiting.
func TestRetryUnreachable(t *testing.T) {
	cases := []struct {
		name     string
		method   string
		upAfter  time.Duration // the server starts listening after this; <0: never
		status   int
		timeout  time.Duration // request context
		wantCode int           // 0: want an error
		minTook  time.Duration
		maxTook  time.Duration
		wantHits int32
	}{
		{"read waits for the server", http.MethodGet, 700 * time.Millisecond, 200, 10 * time.Second, 200, 700 * time.Millisecond, 700*time.Millisecond + apiRetryMax + time.Second, 1},
		{"write fails at once", http.MethodPost, 700 * time.Millisecond, 200, 10 * time.Second, 0, 0, 500 * time.Millisecond, 0},
		{"server errors pass through", http.MethodGet, 0, 503, 10 * time.Second, 503, 0, 500 * time.Millisecond, 1},
		{"a cancelled read stops waiting", http.MethodGet, -1, 200, 400 * time.Millisecond, 0, 300 * time.Millisecond, 400*time.Millisecond + time.Second, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			var hits atomic.Int32
			switch {
			case tc.upAfter == 0:
				serveOn(t, addr, tc.status, &hits)
			case tc.upAfter > 0:
				timer := time.AfterFunc(tc.upAfter, func() { serveOn(t, addr, tc.status, &hits) })
				t.Cleanup(func() { timer.Stop() })
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tc.method, "http://"+addr+"/api/v1/services", nil)
			if err != nil {
				t.Fatal(err)
			}
			rt := wrapRetryUnreachable(&http.Transport{DisableKeepAlives: true})
			start := time.Now()
			resp, err := rt.RoundTrip(req)
			took := time.Since(start)
			code := 0
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			} else if !unreachable(err) && !strings.Contains(err.Error(), "refused") {
				t.Errorf("error %v is not about reaching the server", err)
			}
			if code != tc.wantCode || took < tc.minTook || took > tc.maxTook || hits.Load() != tc.wantHits {
				t.Errorf("got status %d (err %v) after %v with %d requests served; want status %d within [%v, %v] and %d served",
					code, err, took, hits.Load(), tc.wantCode, tc.minTook, tc.maxTook, tc.wantHits)
			}
		})
	}
}
