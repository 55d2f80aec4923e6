// Package proxytest provides a stateful fake proxy.Backend for tests of the sync loop:
// it programs a plain map the way a kernel would hold rules, honours the Changes hint
// (rewriting only the services named unless Full), commits only on success and can be
// made to fail.
package proxytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// ErrInjected is returned by a sync the test asked to fail.
var ErrInjected = errors.New("proxytest: injected failure")

// Backend is a fake proxy.Backend. Its state maps each programmed service port to the
// line describing it; a partial sync rewrites only the services in the hint, so a sync
// loop that gives a wrong hint leaves stale state that tests can see.
type Backend struct {
	mu       sync.Mutex
	rules    map[proxy.ServicePortName]string
	failures int
	syncs    []bool // full flag of every successful sync
	cleaned  bool
}

// NewBackend returns an empty fake backend.
func NewBackend() *Backend { return &Backend{rules: map[proxy.ServicePortName]string{}} }

// Setup does nothing.
func (b *Backend) Setup(context.Context) error { return nil }

// FailNext makes the next n syncs fail without changing state.
func (b *Backend) FailNext(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = n
}

// Sync programs the snapshot: everything when changes.Full, else the hinted services.
func (b *Backend) Sync(_ context.Context, snap *proxy.Snapshot, changes proxy.Changes) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures > 0 {
		b.failures--
		return ErrInjected
	}
	next := make(map[proxy.ServicePortName]string, len(snap.Services))
	for name, rule := range b.rules {
		if !changes.Touches(name.NamespacedName) {
			next[name] = rule
		}
	}
	for name, svc := range snap.Services {
		if changes.Touches(name.NamespacedName) {
			next[name] = Describe(svc)
		}
	}
	b.rules = next
	b.syncs = append(b.syncs, changes.Full)
	return nil
}

// Cleanup forgets everything.
func (b *Backend) Cleanup(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = map[proxy.ServicePortName]string{}
	b.cleaned = true
	return nil
}

// Dump returns the programmed state, one sorted line per service port.
func (b *Backend) Dump() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := make([]string, 0, len(b.rules))
	for _, rule := range b.rules {
		lines = append(lines, rule)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// Syncs returns, for every successful sync so far, whether it was full.
func (b *Backend) Syncs() []bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.syncs)
}

// Describe prints what a backend would program for one service port.
func Describe(svc *proxy.Service) string {
	eps := make([]string, 0, len(svc.Endpoints.Cluster))
	for _, ep := range svc.Endpoints.Cluster {
		eps = append(eps, ep.String())
	}
	return fmt.Sprintf("%s %s:%d -> [%s]", svc.Name, svc.ClusterIP, svc.Port, strings.Join(eps, " "))
}

// Touched is a convenience for tests: a Changes hint naming the given services.
func Touched(names ...types.NamespacedName) proxy.Changes {
	c := proxy.Changes{Services: map[types.NamespacedName]struct{}{}}
	for _, n := range names {
		c.Services[n] = struct{}{}
	}
	return c
}
