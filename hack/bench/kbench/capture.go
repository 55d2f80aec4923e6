package main

import (
	"context"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// capture is an iptables.Restorer that keeps the payloads it is given and applies
// nothing: the kernel holds no rules as far as the backend can tell.
type capture struct {
	payloads [][]byte
}

var _ iptables.Restorer = (*capture)(nil)

// Family returns IPv4.
func (c *capture) Family() iptables.Family { return iptables.IPv4 }

// Restore keeps a copy of payload.
func (c *capture) Restore(_ context.Context, payload []byte) error {
	c.payloads = append(c.payloads, append([]byte(nil), payload...))
	return nil
}

// Save returns an empty table.
func (c *capture) Save(_ context.Context, table iptables.Table) ([]byte, error) {
	return []byte("*" + string(table) + "\nCOMMIT\n"), nil
}

// ChainExists reports every chain as present.
func (c *capture) ChainExists(context.Context, iptables.Table, string) (bool, error) {
	return true, nil
}

// EnsureChain does nothing.
func (c *capture) EnsureChain(context.Context, iptables.Table, string) (bool, error) {
	return true, nil
}

// DeleteChain does nothing.
func (c *capture) DeleteChain(context.Context, iptables.Table, string) error { return nil }

// EnsureRule does nothing.
func (c *capture) EnsureRule(context.Context, iptables.Position, iptables.Table, string, ...string) (bool, error) {
	return true, nil
}

// DeleteRule does nothing.
func (c *capture) DeleteRule(context.Context, iptables.Table, string, ...string) error { return nil }

// last returns the last payload, nil before any.
func (c *capture) last() []byte {
	if len(c.payloads) == 0 {
		return nil
	}
	return c.payloads[len(c.payloads)-1]
}
