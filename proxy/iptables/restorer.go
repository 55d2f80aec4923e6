package iptables

import "context"

// Restorer is the kernel seam for iptables. Restore is the hot path; the
// chain and rule helpers serve bootstrap (jumps from built-in chains) and
// cleanup, and are idempotent: ensuring what exists or deleting what is gone
// is not an error.
type Restorer interface {
	// Family returns the IP family the Restorer works on.
	Family() Family
	// Restore applies an iptables-restore payload with --noflush semantics:
	// a ":CHAIN" line flushes or creates a user chain, chains not named
	// keep their rules. Each table section commits atomically at its COMMIT.
	// A failure returns a *RestoreError naming the failing line.
	Restore(ctx context.Context, payload []byte) error
	// Save returns the iptables-save text of one table.
	Save(ctx context.Context, table Table) ([]byte, error)
	// ChainExists reports whether chain exists in table.
	ChainExists(ctx context.Context, table Table, chain string) (bool, error)
	// EnsureChain creates chain unless it exists, and reports whether it did.
	EnsureChain(ctx context.Context, table Table, chain string) (existed bool, err error)
	// DeleteChain flushes and deletes chain; a missing chain is not an error.
	DeleteChain(ctx context.Context, table Table, chain string) error
	// EnsureRule adds the rule (iptables arguments after the chain name) at
	// pos unless an identical rule exists anywhere in chain.
	EnsureRule(ctx context.Context, pos Position, table Table, chain string, args ...string) (existed bool, err error)
	// DeleteRule deletes the rule; a missing rule or chain is not an error.
	DeleteRule(ctx context.Context, table Table, chain string, args ...string) error
}

// Position says where EnsureRule puts a new rule.
type Position uint8

const (
	// Append adds the rule at the end of the chain.
	Append Position = iota
	// Prepend adds the rule at the start of the chain.
	Prepend
)
