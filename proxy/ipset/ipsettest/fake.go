package ipsettest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/kproxy/kproxy/proxy/ipset"
)

// ErrInjected is returned by an Apply the test asked to fail.
var ErrInjected = errors.New("ipsettest: injected failure")

// Fake is an in-memory ipset. It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	sets     map[string]*set
	version  string
	inUse    func(name string) bool
	applies  int
	failNext int
}

// set is one set and its members.
type set struct {
	ipset.Set
	members map[string]struct{}
}

var _ ipset.Interface = (*Fake)(nil)

// New returns a Fake without sets, reporting version 7.19.
func New() *Fake { return &Fake{sets: map[string]*set{}, version: "7.19"} }

// SetVersion sets the version Version reports.
func (f *Fake) SetVersion(v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version = v
}

// SetInUse tells the Fake which sets are referenced (by iptables rules): Destroy
// of such a set fails, as in the kernel. nil means none is.
func (f *Fake) SetInUse(inUse func(name string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inUse = inUse
}

// FailNext makes the next n Apply calls fail without changing anything.
func (f *Fake) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

// Applies returns how many Apply calls succeeded.
func (f *Fake) Applies() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applies
}

// Version returns the configured version.
func (f *Fake) Version(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, nil
}

// List returns every set with its members, sorted.
func (f *Fake) List(ctx context.Context) ([]ipset.Contents, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ipset.Contents, 0, len(f.sets))
	for _, name := range f.names() {
		s := f.sets[name]
		out = append(out, ipset.Contents{Set: s.Set, Entries: sortedKeys(s.members)})
	}
	return out, nil
}

// Members returns the sorted members of a set, or nil when it does not exist.
func (f *Fake) Members(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.sets[name]; s != nil {
		return sortedKeys(s.members)
	}
	return nil
}

// Sets returns the names of the sets, sorted.
func (f *Fake) Sets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.names()
}

// Apply applies the batch with "-exist" semantics, all or nothing.
func (f *Fake) Apply(ctx context.Context, b *ipset.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext > 0 {
		f.failNext--
		return ErrInjected
	}
	var undo []func()
	for i, op := range b.Ops() {
		u, err := f.apply(op)
		if err != nil {
			for j := len(undo) - 1; j >= 0; j-- {
				undo[j]()
			}
			return fmt.Errorf("ipset restore: line %d (%s %s): %w", i+1, op.Kind, op.Set.Name, err)
		}
		if u != nil {
			undo = append(undo, u)
		}
	}
	f.applies++
	return nil
}

func (f *Fake) names() []string {
	names := make([]string, 0, len(f.sets))
	for name := range f.sets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
