package app

import (
	"context"
	"fmt"

	"github.com/kproxy/kproxy/proxy"
)

// newBackends builds the chosen mode's backend for each IP family the node serves.
func newBackends(o *Options) ([]proxy.FamilyBackend, error) {
	switch o.Config.Mode {
	default:
		return nil, fmt.Errorf("proxy mode %q is not available in this build", o.Config.Mode)
	}
}

// canaryOf returns a check that reports whether any backend's rules were flushed, or nil
// when no backend has a canary.
func canaryOf(backends []proxy.FamilyBackend) func(context.Context) (bool, error) {
	type canary interface {
		CheckCanary(ctx context.Context) (bool, error)
	}
	var checks []canary
	for _, fb := range backends {
		if c, ok := fb.Backend.(canary); ok {
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	return func(ctx context.Context) (bool, error) {
		for _, c := range checks {
			if flushed, err := c.CheckCanary(ctx); flushed || err != nil {
				return flushed, err
			}
		}
		return false, nil
	}
}
