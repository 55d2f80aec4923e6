package proxy

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
)

// Backend programs one IP family's snapshot into the kernel (or, in userspace mode, into
// kproxy's own listeners). cmd/kproxy picks one per family by --proxy-mode; dual-stack nodes
// run two side by side.
//
// The contract:
//   - Sync is declarative and idempotent: snap is always the full desired state, and calling
//     Sync twice with the same snapshot leaves the kernel as the first call did.
//   - changes is only a hint: a backend may rewrite only the services it names, but must
//     give the same end state as a full rewrite. When changes.Full is set it must rewrite
//     everything it owns, and remove what the snapshot no longer holds.
//   - An error means the kernel may not match snap; the caller then passes Full on the
//     next call. A backend must not leave half-applied state it cannot repair in that call.
//   - snap and everything it points to are read-only and valid only during the call (the
//     *Service values themselves are immutable and may be kept).
type Backend interface {
	// Setup checks the node can run this backend (binaries, kernel modules, schedulers)
	// and prepares what never changes. It is called once before the first Sync; an error
	// stops kproxy at start-up with that message.
	Setup(ctx context.Context) error
	// Sync makes the kernel match snap.
	Sync(ctx context.Context, snap *Snapshot, changes Changes) error
	// Cleanup removes everything the backend ever installs (for --cleanup), in the way a
	// fresh process can: from well-known names, without the state of a previous run.
	Cleanup(ctx context.Context) error
}

// Changes tells a backend which services changed since its last successful Sync.
type Changes struct {
	// Full asks for a complete rewrite: the first sync, after a failure, after a node change.
	Full bool
	// Services are the services whose ports or endpoints changed (added, updated, removed).
	Services map[types.NamespacedName]struct{}
}

// Touches reports whether the backend must rewrite the service's rules.
func (c Changes) Touches(svc types.NamespacedName) bool {
	if c.Full {
		return true
	}
	_, ok := c.Services[svc]
	return ok
}
