package proxy

import (
	"context"
	"errors"
	"fmt"
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

// memoryStep is one sync of TestMemoryReleased.
type memoryStep struct {
	fail      v1.IPFamily // this family's backend fails this sync
	forceFull bool        // ForceFull before the sync (a flush, a node change)
	released  int         // releases counted after it
}

// TestMemoryReleased checks freed memory is handed back after the first sync in
// which every family succeeded, and later only after complete syncs holding a full
// sync of a big table.
func TestMemoryReleased(t *testing.T) {
	tests := []struct {
		name     string
		services int
		steps    []memoryStep
	}{
		{name: "first complete sync only, small table", services: 3, steps: []memoryStep{
			{released: 1}, {released: 1}, {forceFull: true, released: 1}}},
		{name: "IPv6 fails twice first", services: 3, steps: []memoryStep{
			{fail: v1.IPv6Protocol}, {fail: v1.IPv6Protocol}, {released: 1}, {released: 1}}},
		{name: "big table: again after each complete full sync", services: bigTable, steps: []memoryStep{
			{released: 1}, {released: 1}, {forceFull: true, released: 2}, {released: 2},
			{fail: v1.IPv4Protocol, released: 2}, {released: 3},
			{fail: v1.IPv6Protocol, released: 3}, {released: 3}}}, // IPv6's table is empty
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable("node")
			for i := range tt.services {
				svc := newTestService(fmt.Sprintf("svc%d", i), fmt.Sprintf("10.96.%d.%d", i/256, i%256))
				table.Services.Update(nil, svc)
			}
			flaky := map[v1.IPFamily]*flakyBackend{v1.IPv4Protocol: {}, v1.IPv6Protocol: {}}
			backends := []FamilyBackend{
				{Family: v1.IPv4Protocol, Backend: flaky[v1.IPv4Protocol]},
				{Family: v1.IPv6Protocol, Backend: flaky[v1.IPv6Protocol]},
			}
			s := NewSyncer(table, backends, nil, nil, clocktesting.NewFakeClock(time.Unix(0, 0)))
			released := 0
			s.releaseMemory = func() { released++ }
			for i, step := range tt.steps {
				if step.forceFull {
					s.ForceFull()
				}
				if step.fail != "" {
					flaky[step.fail].failures = 1
				}
				_ = s.Sync(context.Background())
				if released != step.released {
					t.Fatalf("after sync %d: released %d times, want %d", i+1, released, step.released)
				}
			}
		})
	}
}
