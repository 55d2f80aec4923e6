package iptablestest

import (
	"bytes"
	"context"
	"sync"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// Faulty wraps a Restorer and makes chosen Restore calls fail, to prove
// that a failed sync is retried and repaired. Other methods pass through.
type Faulty struct {
	iptables.Restorer

	mu       sync.Mutex
	calls    int
	failed   int
	failNext int
	failAt   map[int]bool
	partial  bool
}

// NewFaulty wraps r; no call fails until told to.
func NewFaulty(r iptables.Restorer) *Faulty {
	return &Faulty{Restorer: r, failAt: make(map[int]bool)}
}

// FailNext makes the next n Restore calls fail.
func (f *Faulty) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

// FailCall makes Restore call number n fail, counting from 1 over the
// wrapper's life.
func (f *Faulty) FailCall(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAt[n] = true
}

// Partial makes failing calls first apply the payload's first table
// section, as the real tool does when a later section fails. Without it a
// failing call applies nothing.
func (f *Faulty) Partial(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partial = on
}

// Calls returns how many Restore calls were made.
func (f *Faulty) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Failed returns how many Restore calls were made to fail.
func (f *Faulty) Failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// Restore fails when told to, else calls the wrapped Restore.
func (f *Faulty) Restore(ctx context.Context, payload []byte) error {
	f.mu.Lock()
	f.calls++
	fail := f.failAt[f.calls] || f.failNext > 0
	if fail {
		f.failed++
		if f.failNext > 0 {
			f.failNext--
		}
	}
	partial := f.partial
	f.mu.Unlock()
	if !fail {
		return f.Restorer.Restore(ctx, payload)
	}
	if partial {
		if first := firstSection(payload); first != nil {
			if err := f.Restorer.Restore(ctx, first); err != nil {
				return err
			}
		}
	}
	return &iptables.RestoreError{Command: "iptables-restore (faulty)", ExitCode: 1, Output: "injected fault"}
}

// firstSection returns the payload up to its first COMMIT line when more
// follows, or nil.
func firstSection(payload []byte) []byte {
	i := bytes.Index(payload, []byte("\nCOMMIT\n"))
	if i < 0 || i+8 >= len(payload) {
		return nil
	}
	return payload[:i+8]
}
