package proxy

import (
	"context"
	"errors"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// flakyBackend fails while failures is positive, counting down.
type flakyBackend struct{ failures int }

func (b *flakyBackend) Setup(context.Context) error   { return nil }
func (b *flakyBackend) Cleanup(context.Context) error { return nil }
func (b *flakyBackend) Sync(context.Context, *Snapshot, Changes) error {
	if b.failures > 0 {
		b.failures--
		return errors.New("injected failure")
	}
	return nil
}

// TestStartupMemoryReleasedOnce checks start-up garbage is handed back once, after
// the first sync in which every family succeeded, and never again.
func TestStartupMemoryReleasedOnce(t *testing.T) {
	tests := []struct {
		name      string
		failures  [2]int // failing syncs per family before it succeeds
		syncs     int
		wantAfter []int // releases counted after each sync
	}{
		{name: "both families succeed at once", syncs: 3, wantAfter: []int{1, 1, 1}},
		{name: "IPv6 fails twice first", failures: [2]int{0, 2}, syncs: 4, wantAfter: []int{0, 0, 1, 1}},
		{name: "IPv4 fails once", failures: [2]int{1, 0}, syncs: 2, wantAfter: []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backends := []FamilyBackend{
				{Family: v1.IPv4Protocol, Backend: &flakyBackend{failures: tt.failures[0]}},
				{Family: v1.IPv6Protocol, Backend: &flakyBackend{failures: tt.failures[1]}},
			}
			s := NewSyncer(NewTable("node"), backends, nil, nil, clocktesting.NewFakeClock(time.Unix(0, 0)))
			released := 0
			s.releaseMemory = func() { released++ }
			for i := range tt.syncs {
				_ = s.Sync(context.Background())
				if released != tt.wantAfter[i] {
					t.Fatalf("after sync %d: released %d times, want %d", i+1, released, tt.wantAfter[i])
				}
			}
		})
	}
}
