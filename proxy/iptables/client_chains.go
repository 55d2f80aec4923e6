package iptables

import (
	"context"
	"fmt"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// The helpers below run one iptables command each through go-iptables.
// They are for bootstrap and cleanup only; go-iptables takes no context, so
// ctx is only checked before a command starts.

// handle returns the go-iptables handle, creating it on first use.
func (c *Client) handle(ctx context.Context) (*goiptables.IPTables, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ipt != nil {
		return c.ipt, nil
	}
	proto := goiptables.ProtocolIPv4
	if c.family == IPv6 {
		proto = goiptables.ProtocolIPv6
	}
	ipt, err := goiptables.New(goiptables.IPFamily(proto), goiptables.Path(c.bins.Cmd), goiptables.Timeout(5))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.bins.Cmd, err)
	}
	c.ipt = ipt
	return ipt, nil
}

// ChainExists reports whether chain exists in table.
func (c *Client) ChainExists(ctx context.Context, table Table, chain string) (bool, error) {
	ipt, err := c.handle(ctx)
	if err != nil {
		return false, err
	}
	ok, err := ipt.ChainExists(string(table), chain)
	if err != nil {
		return false, fmt.Errorf("check chain %s/%s: %w", table, chain, err)
	}
	return ok, nil
}

// EnsureChain creates chain in table unless it exists.
func (c *Client) EnsureChain(ctx context.Context, table Table, chain string) (bool, error) {
	ipt, err := c.handle(ctx)
	if err != nil {
		return false, err
	}
	ok, err := ipt.ChainExists(string(table), chain)
	if err != nil || ok {
		return ok, err
	}
	if err := ipt.NewChain(string(table), chain); err != nil {
		return false, fmt.Errorf("create chain %s/%s: %w", table, chain, err)
	}
	return false, nil
}

// DeleteChain flushes and deletes chain; a missing chain is not an error.
func (c *Client) DeleteChain(ctx context.Context, table Table, chain string) error {
	ipt, err := c.handle(ctx)
	if err != nil {
		return err
	}
	if err := ipt.ClearAndDeleteChain(string(table), chain); err != nil {
		return fmt.Errorf("delete chain %s/%s: %w", table, chain, err)
	}
	return nil
}

// EnsureRule adds the rule at pos unless an identical one exists.
func (c *Client) EnsureRule(ctx context.Context, pos Position, table Table, chain string, args ...string) (bool, error) {
	ipt, err := c.handle(ctx)
	if err != nil {
		return false, err
	}
	ok, err := ipt.Exists(string(table), chain, args...)
	if err != nil {
		return false, fmt.Errorf("check rule in %s/%s: %w", table, chain, err)
	}
	if ok {
		return true, nil
	}
	if pos == Prepend {
		err = ipt.Insert(string(table), chain, 1, args...)
	} else {
		err = ipt.Append(string(table), chain, args...)
	}
	if err != nil {
		return false, fmt.Errorf("add rule to %s/%s: %w", table, chain, err)
	}
	return false, nil
}

// DeleteRule deletes the rule; a missing rule or chain is not an error.
func (c *Client) DeleteRule(ctx context.Context, table Table, chain string, args ...string) error {
	ipt, err := c.handle(ctx)
	if err != nil {
		return err
	}
	if ok, err := ipt.ChainExists(string(table), chain); err != nil || !ok {
		return err
	}
	if err := ipt.DeleteIfExists(string(table), chain, args...); err != nil {
		return fmt.Errorf("delete rule from %s/%s: %w", table, chain, err)
	}
	return nil
}
