package iptablestest

import (
	"context"
	"sort"
	"sync"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// Fake is a stateful, in-memory iptables of one family. It is safe for
// concurrent use. Tables come into being when first used, with their
// built-in chains empty and accepting.
type Fake struct {
	mu       sync.Mutex
	family   iptables.Family
	tables   map[iptables.Table]*table
	sets     IPSets
	restores int

	// Reused between calls; guarded by mu.
	lastTxn uint64
	x       txn
	p       ruleParser
	toks    []token
}

var _ iptables.Restorer = (*Fake)(nil)

// New returns an empty Fake for family.
func New(family iptables.Family) *Fake {
	return &Fake{
		family: family,
		tables: make(map[iptables.Table]*table),
		p:      ruleParser{family: family},
	}
}

// Family returns the Fake's IP family.
func (f *Fake) Family() iptables.Family { return f.family }

// UseIPSets makes rules matching "-m set --match-set NAME" fail to apply
// unless sets holds NAME, as the kernel refuses unknown sets, and gives the
// Tracer the sets' members. Without it set names are not checked.
func (f *Fake) UseIPSets(sets IPSets) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = sets
}

// Restores returns how many Restore calls succeeded.
func (f *Fake) Restores() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restores
}

// Restore applies payload like "iptables-restore --noflush". Each table
// section is applied atomically: a failing line rolls its section back and
// returns an *iptables.RestoreError naming the line; sections committed
// before it stay applied, as with the real tool.
func (f *Fake) Restore(ctx context.Context, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.restore(payload); err != nil {
		return err
	}
	f.restores++
	return nil
}

// Save returns the iptables-save text of one table (see Dump).
func (f *Fake) Save(ctx context.Context, t iptables.Table) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tbl, err := f.table(t)
	if err != nil {
		return nil, err
	}
	return tbl.appendSave(nil), nil
}

// Dump returns every table that holds anything but empty, accepting
// built-in chains, in iptables-save form without comments or counters:
// built-in chains in hook order, then user chains sorted by name, each
// rule as iptables-save prints it. Equal states give equal dumps.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b []byte
	for _, t := range iptables.Tables() {
		if tbl := f.tables[t]; tbl != nil && !tbl.pristine() {
			b = tbl.appendSave(b)
		}
	}
	return string(b)
}

// Chains returns the chains of table t: built-in ones in hook order, then
// user chains sorted by name.
func (f *Fake) Chains(t iptables.Table) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	tbl := f.tables[t]
	if tbl == nil {
		return iptables.BuiltinChains(t)
	}
	names := make([]string, 0, len(tbl.chains))
	for _, c := range tbl.builtins {
		names = append(names, c.name)
	}
	return append(names, tbl.userChains()...)
}

// Rules returns the rules of a chain, or nil when it does not exist. The
// rules must not be modified.
func (f *Fake) Rules(t iptables.Table, chainName string) []*Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tbl := f.tables[t]; tbl != nil {
		if c := tbl.chains[chainName]; c != nil {
			return append([]*Rule(nil), c.rules...)
		}
	}
	return nil
}

// References returns how many rules jump or go to a chain.
func (f *Fake) References(t iptables.Table, chainName string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tbl := f.tables[t]; tbl != nil {
		if c := tbl.chains[chainName]; c != nil {
			return c.refs
		}
	}
	return 0
}

// userChains returns the names of t's user chains, sorted.
func (t *table) userChains() []string {
	names := make([]string, 0, len(t.chains)-len(t.builtins))
	for name, c := range t.chains {
		if !c.builtin {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
