package endpoints

import (
	"maps"
	"slices"
	"sync"
	"time"

	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TriggerTimeAnnotation is set by the EndpointSlice controller to the time of the change
// that caused a slice update; kproxy measures network programming latency from it.
const TriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"

// Change is the new endpoint state of one service, waiting to be applied.
type Change struct {
	// Endpoints is the service's merged endpoints; empty when its last slice is gone.
	Endpoints ByFamily
	// Triggered is the earliest trigger time among the slice updates behind the change
	// (zero when no slice carried the annotation).
	Triggered time.Time
}

// Tracker keeps the latest EndpointSlices of every service and the merged endpoints last
// applied to the table. A slice event merges the service's slices again and records a
// pending change unless the result equals what was applied, so a no-op update, or an
// update undone before the next sync, leaves nothing pending. It is safe for concurrent use.
type Tracker struct {
	nodeName string

	mu     sync.Mutex
	slices map[types.NamespacedName]map[string]*discovery.EndpointSlice
	// owners maps each stored slice (namespace and name) to the service it is
	// stored under, so a slice whose label changes leaves its old service.
	owners  map[types.NamespacedName]types.NamespacedName
	applied map[types.NamespacedName]ByFamily
	pending map[types.NamespacedName]Change
}

// NewTracker returns an empty tracker for the node named nodeName.
func NewTracker(nodeName string) *Tracker {
	return &Tracker{
		nodeName: nodeName,
		slices:   map[types.NamespacedName]map[string]*discovery.EndpointSlice{},
		owners:   map[types.NamespacedName]types.NamespacedName{},
		applied:  map[types.NamespacedName]ByFamily{},
		pending:  map[types.NamespacedName]Change{},
	}
}

// ServiceOf returns the service a slice belongs to, from its kubernetes.io/service-name label.
func ServiceOf(slice *discovery.EndpointSlice) (types.NamespacedName, bool) {
	name := slice.Labels[discovery.LabelServiceName]
	return types.NamespacedName{Namespace: slice.Namespace, Name: name}, name != ""
}

// Update records the slice as it now is (deleted: gone). It returns the slice's service,
// whether a change is now pending (for that service, or for the one the slice belonged
// to before its service label changed), and the problems found in this slice while
// merging (addresses or ports left out). A slice without a service label is ignored
// (ok false), after leaving the service it belonged to, if any.
func (t *Tracker) Update(slice *discovery.EndpointSlice, deleted bool) (svc types.NamespacedName, ok, pending bool, problems []string) {
	svc, ok = ServiceOf(slice)
	key := types.NamespacedName{Namespace: slice.Namespace, Name: slice.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	if owner, stored := t.owners[key]; stored && (deleted || !ok || owner != svc) {
		t.forgetSlice(owner, key)
		pending, _ = t.remerge(owner, slice, nil)
	}
	if !ok || deleted {
		return svc, ok, pending, nil
	}
	t.storeSlice(svc, key, slice)
	changed, problems := t.remerge(svc, slice, slice)
	return svc, true, pending || changed, problems
}

// remerge merges the slices of svc again and records a pending change unless the
// result equals what was applied. It returns whether a change is pending and the
// problems found in report (none when nil); the change keeps the trigger time of
// the slice whose event caused it.
func (t *Tracker) remerge(svc types.NamespacedName, cause, report *discovery.EndpointSlice) (bool, []string) {
	merged, problems := merge(t.sliceList(svc), t.nodeName, func(s *discovery.EndpointSlice) bool { return s == report })
	if merged.Equal(t.applied[svc]) {
		delete(t.pending, svc)
		return false, problems
	}
	change := t.pending[svc]
	change.Endpoints = merged
	change.Triggered = earliest(change.Triggered, triggerTime(cause))
	t.pending[svc] = change
	return true, problems
}

// storeSlice keeps a slice of svc.
func (t *Tracker) storeSlice(svc, key types.NamespacedName, slice *discovery.EndpointSlice) {
	bySlice := t.slices[svc]
	if bySlice == nil {
		bySlice = map[string]*discovery.EndpointSlice{}
		t.slices[svc] = bySlice
	}
	bySlice[key.Name] = slice
	t.owners[key] = svc
}

// forgetSlice drops a slice of svc.
func (t *Tracker) forgetSlice(svc, key types.NamespacedName) {
	bySlice := t.slices[svc]
	delete(bySlice, key.Name)
	if len(bySlice) == 0 {
		delete(t.slices, svc)
	}
	delete(t.owners, key)
}

// sliceList returns the slices of svc sorted by name, so that merging, which keeps
// the first of equally good duplicates, gives the same result every time.
func (t *Tracker) sliceList(svc types.NamespacedName) []*discovery.EndpointSlice {
	out := make([]*discovery.EndpointSlice, 0, len(t.slices[svc]))
	for _, name := range slices.Sorted(maps.Keys(t.slices[svc])) {
		out = append(out, t.slices[svc][name])
	}
	return out
}

// Pending returns how many services have endpoint changes waiting to be applied.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Apply hands over the pending changes and records them as applied.
func (t *Tracker) Apply() map[types.NamespacedName]Change {
	t.mu.Lock()
	defer t.mu.Unlock()
	changes := t.pending
	t.pending = map[types.NamespacedName]Change{}
	for svc, change := range changes {
		if len(change.Endpoints) == 0 {
			delete(t.applied, svc)
		} else {
			t.applied[svc] = change.Endpoints
		}
	}
	return changes
}

// triggerTime reads the slice's trigger-time annotation; zero when absent or malformed.
func triggerTime(slice *discovery.EndpointSlice) time.Time {
	v, ok := slice.Annotations[TriggerTimeAnnotation]
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
