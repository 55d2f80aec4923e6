package proxy

import (
	"context"
	"errors"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// FamilyBackend pairs a backend with the IP family it programs.
type FamilyBackend struct {
	Family  v1.IPFamily
	Backend Backend
}

// Syncer runs one sync: it applies the table's pending changes and hands each family's
// snapshot to its backend, keeping per family what that backend has not yet synced.
type Syncer struct {
	table    *Table
	backends []FamilyBackend
	metrics  *Metrics
	health   *HealthServer
	clock    clock.PassiveClock

	mu      sync.Mutex // held for a whole sync; debug readers take it too
	unsaved map[v1.IPFamily]*unsynced

	// serviceHealth, when set, follows the health-check node ports after every sync.
	serviceHealth *ServiceHealthServer

	// releaseMemory hands the heap's free pages back to the system after the
	// syncs shouldRelease picks (see memory.go).
	releaseMemory func()
	released      bool // after the first complete sync
}

// unsynced is what one family's backend still has to program.
type unsynced struct {
	full     bool
	services map[types.NamespacedName]struct{}
	triggers []time.Time
}

// NewSyncer returns a syncer whose first sync of every family is full. metrics and
// health may be nil.
func NewSyncer(table *Table, backends []FamilyBackend, metrics *Metrics, health *HealthServer, clk clock.PassiveClock) *Syncer {
	s := &Syncer{table: table, backends: backends, metrics: metrics, health: health, clock: clk,
		unsaved: map[v1.IPFamily]*unsynced{}, releaseMemory: releaseStartupGarbage}
	for _, fb := range backends {
		s.unsaved[fb.Family] = &unsynced{full: true, services: map[types.NamespacedName]struct{}{}}
	}
	return s
}

// Queued records that a change is waiting for the next sync (for healthz and metrics).
func (s *Syncer) Queued() {
	now := s.clock.Now()
	for _, fb := range s.backends {
		s.metrics.SyncQueued(fb.Family, now)
		if s.health != nil {
			s.health.QueuedUpdate(fb.Family)
		}
	}
}

// ForceFull makes the next sync of every family a full one (e.g. after the canary chain
// vanished).
func (s *Syncer) ForceFull() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.unsaved {
		u.full = true
	}
}

// Sync applies pending changes and syncs every family. A family whose backend fails is
// synced in full next time; the others are not held back.
func (s *Syncer) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	applied := s.table.Apply()
	var errs []error
	snaps := make([]*Snapshot, 0, len(s.backends))
	bigFull := false
	for _, fb := range s.backends {
		u := s.unsaved[fb.Family]
		u.add(applied)
		snap := s.table.Snapshot(fb.Family)
		snaps = append(snaps, snap)
		bigFull = bigFull || (u.full && len(snap.Services) >= bigTable)
		if err := s.syncFamily(ctx, fb, snap, u); err != nil {
			errs = append(errs, err)
		}
	}
	if s.serviceHealth != nil {
		s.serviceHealth.Sync(healthChecks(snaps))
	}
	s.metrics.SetPendingChanges(s.table.Services.Pending(), s.table.Endpoints.Pending())
	if len(errs) == 0 && (!s.released || bigFull) {
		s.released = true
		s.releaseMemory()
	}
	return errors.Join(errs...)
}

// syncFamily calls one backend and records the outcome.
func (s *Syncer) syncFamily(ctx context.Context, fb FamilyBackend, snap *Snapshot, u *unsynced) error {
	start := s.clock.Now()
	changes := Changes{Full: u.full, Services: u.services}
	err := fb.Backend.Sync(ctx, snap, changes)
	now := s.clock.Now()
	if err != nil {
		u.full = true
		s.metrics.ObserveFailedSync(fb.Family, changes.Full, now.Sub(start))
		klog.ErrorS(err, "Sync failed; the next one will be full", "family", fb.Family)
		return err
	}
	s.metrics.ObserveSync(fb.Family, changes.Full, now.Sub(start), now)
	for _, t := range u.triggers {
		s.metrics.ObserveNetworkProgramming(fb.Family, now.Sub(t))
	}
	internal, external := countNoLocal(snap)
	s.metrics.SetNoLocalEndpoints(fb.Family, internal, external)
	if s.health != nil {
		s.health.Updated(fb.Family)
	}
	klog.V(2).InfoS("Synced", "family", fb.Family, "full", changes.Full, "changed", len(changes.Services),
		"services", len(snap.Services), "took", now.Sub(start))
	u.reset()
	return nil
}

// add merges an Apply's changes into what is still to sync.
func (u *unsynced) add(a Applied) {
	u.full = u.full || a.NodeChanged
	for name := range a.Services {
		u.services[name] = struct{}{}
	}
	u.triggers = append(u.triggers, a.Triggers...)
}

// reset forgets what was synced.
func (u *unsynced) reset() {
	u.full = false
	clear(u.services)
	u.triggers = u.triggers[:0]
}

// countNoLocal counts service ports whose Local internal or external policy finds no
// local endpoint while endpoints exist elsewhere.
func countNoLocal(snap *Snapshot) (internal, external int) {
	for _, svc := range snap.Services {
		if len(svc.Endpoints.Local) > 0 || !svc.Endpoints.Any {
			continue
		}
		if svc.Policy.InternalLocal {
			internal++
		}
		if svc.Policy.ExternalLocal {
			external++
		}
	}
	return internal, external
}
