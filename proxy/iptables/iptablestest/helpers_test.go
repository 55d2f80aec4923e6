package iptablestest

// These are pure unit tests: they run no command and touch no kernel state.
// The kernel tests are in kernel_test.go and run under unshare --net.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// restore applies payload and fails the test on error.
func restore(t *testing.T, r iptables.Restorer, payload string) {
	t.Helper()
	if err := r.Restore(context.Background(), []byte(payload)); err != nil {
		t.Fatalf("restore failed: %v\npayload:\n%s", err, payload)
	}
}

// restoreErr applies payload, expecting a *RestoreError.
func restoreErr(t *testing.T, r iptables.Restorer, payload string) *iptables.RestoreError {
	t.Helper()
	err := r.Restore(context.Background(), []byte(payload))
	var re *iptables.RestoreError
	if !errors.As(err, &re) {
		t.Fatalf("restore: got %v, want a *RestoreError\npayload:\n%s", err, payload)
	}
	return re
}

// lines builds a payload from lines.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// specs returns the rules of a chain as iptables-save prints them.
func specs(f *Fake, t iptables.Table, chain string) []string {
	var out []string
	for _, r := range f.Rules(t, chain) {
		out = append(out, r.String())
	}
	return out
}
