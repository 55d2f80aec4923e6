package ipset

import "context"

// Interface is the kernel seam for IP sets. Netlink (the one kproxy runs) and
// Runner (the ipset tool) are real ones, the fake in package ipsettest the one
// tests use.
type Interface interface {
	// Version returns the version of the ipset tool, such as "7.19", or for
	// Netlink the kernel's ip_set protocol as "7.0".
	Version(ctx context.Context) (string, error)
	// List returns every set the kernel holds with its entries, sets sorted by
	// name, entries canonical and sorted.
	List(ctx context.Context) ([]Contents, error)
	// Apply runs the batch's operations in order. On error the kernel may hold
	// any prefix of them (the real tool stops at the first failing line).
	Apply(ctx context.Context, b *Batch) error
}

// MinVersion is the oldest ipset tool kproxy accepts: 6.0 brought IPv6 sets.
const MinVersion = "6.0"
