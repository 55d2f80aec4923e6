package proxy

import (
	"reflect"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// serviceChange is one service's ports as last applied and as they are now.
type serviceChange struct {
	previous, current PortsByFamily
}

// ServiceTracker collects Service events between syncs. It keeps one previous/current pair
// per service, so add→update→delete collapses into nothing and an update that changes
// nothing kproxy programs leaves no pending change. It is safe for concurrent use.
type ServiceTracker struct {
	mu      sync.Mutex
	pending map[types.NamespacedName]*serviceChange
}

// NewServiceTracker returns an empty tracker.
func NewServiceTracker() *ServiceTracker {
	return &ServiceTracker{pending: map[types.NamespacedName]*serviceChange{}}
}

// Update records a Service event: previous is the object before it (nil on add), current
// after it (nil on delete). It returns whether a change is now pending for the service and
// the problems found converting current.
func (t *ServiceTracker) Update(previous, current *v1.Service) (pending bool, problems []string) {
	svc := current
	if svc == nil {
		svc = previous
	}
	if svc == nil {
		return false, nil
	}
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	var now PortsByFamily
	if current != nil {
		now, problems = ConvertService(current)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	change, ok := t.pending[name]
	if !ok {
		change = &serviceChange{}
		if previous != nil {
			change.previous, _ = ConvertService(previous)
		}
		t.pending[name] = change
	}
	change.current = now
	if samePorts(change.previous, change.current) {
		delete(t.pending, name)
		return false, problems
	}
	return true, problems
}

// Pending returns how many services have changes waiting to be applied.
func (t *ServiceTracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Apply hands over the pending changes: each service's ports as they are now (nil when the
// service is gone or not proxied).
func (t *ServiceTracker) Apply() map[types.NamespacedName]PortsByFamily {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[types.NamespacedName]PortsByFamily, len(t.pending))
	for name, change := range t.pending {
		out[name] = change.current
	}
	clear(t.pending)
	return out
}

// samePorts compares two conversions of a service; an empty one equals nil.
func samePorts(a, b PortsByFamily) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
