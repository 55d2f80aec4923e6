package app

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// While the API server cannot be reached, client-go's reflectors back off
// exponentially (0.8 s doubling up to 30 s, each delay jittered up to twice
// itself, reset only after 2 min without errors). After an outage of half a
// minute the next list or watch may therefore come up to ~25 s after the API
// server is back, and with it every Service and endpoint change made
// meanwhile. kproxy retries the connection itself, under the reflectors,
// with a short capped backoff: they never see the outage, and their watches
// resume within apiRetryMax of the server's return.
const (
	apiRetryFirst = 250 * time.Millisecond
	apiRetryMax   = 2 * time.Second
)

// retryUnreachable is an http.RoundTripper that retries GET requests without
// a body (lists and watches, which are idempotent) for as long as the API
// server cannot be reached and the request's context lives. Other requests,
// and every answer the server gives (errors included), pass through.
type retryUnreachable struct {
	next http.RoundTripper
}

// wrapRetryUnreachable is a rest.Config transport wrapper.
func wrapRetryUnreachable(rt http.RoundTripper) http.RoundTripper {
	return &retryUnreachable{next: rt}
}

// RoundTrip implements http.RoundTripper.
func (r *retryUnreachable) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || (req.Body != nil && req.Body != http.NoBody) {
		return r.next.RoundTrip(req)
	}
	delay := apiRetryFirst
	for attempt := 1; ; attempt++ {
		resp, err := r.next.RoundTrip(req)
		if err == nil || !unreachable(err) || req.Context().Err() != nil {
			if err == nil && attempt > 1 {
				klog.InfoS("API server reachable again", "path", req.URL.Path, "attempts", attempt)
			}
			return resp, err
		}
		if attempt == 1 {
			klog.ErrorS(err, "Cannot reach the API server; retrying", "path", req.URL.Path)
		}
		timer := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, err
		case <-timer.C:
		}
		delay = min(2*delay, apiRetryMax)
	}
}

// unreachable tells an error of a request that never reached the API
// server: a connection refused or not answered, no route to the host; or a
// connection something in front of the API server (a load balancer, a
// relay) accepted and then closed or reset before any HTTP response: with
// every backend down, haproxy and similar accept and close.
func unreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
