package iptablestest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// The bootstrap helpers of iptables.Restorer, with the same semantics as
// the real client's. Each runs as its own transaction.

// ChainExists reports whether chain exists in table t.
func (f *Fake) ChainExists(ctx context.Context, t iptables.Table, chainName string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tbl, err := f.table(t)
	if err != nil {
		return false, err
	}
	return tbl.chains[chainName] != nil, nil
}

// EnsureChain creates a user chain unless it exists.
func (f *Fake) EnsureChain(ctx context.Context, t iptables.Table, chainName string) (bool, error) {
	existed := false
	err := f.single(ctx, t, func() error {
		if f.x.t.chains[chainName] != nil {
			existed = true
			return nil
		}
		_, err := f.x.create(chainName)
		return err
	})
	return existed, err
}

// DeleteChain flushes and deletes a user chain; a missing one is fine.
func (f *Fake) DeleteChain(ctx context.Context, t iptables.Table, chainName string) error {
	return f.single(ctx, t, func() error {
		c := f.x.t.chains[chainName]
		if c == nil {
			return nil
		}
		f.x.flush(c)
		return f.x.deleteChain(c)
	})
}

// EnsureRule adds a rule at pos unless an identical one is in the chain.
func (f *Fake) EnsureRule(ctx context.Context, pos iptables.Position, t iptables.Table, chainName string, args ...string) (bool, error) {
	existed := false
	err := f.single(ctx, t, func() error {
		c, r, err := f.argvRule(chainName, args)
		if err != nil {
			return err
		}
		if indexSpec(c.rules, r.Spec) >= 0 {
			existed = true
			return nil
		}
		if pos == iptables.Prepend {
			return f.x.insertRule(c, 1, r)
		}
		return f.x.appendRule(c, r)
	})
	return existed, err
}

// DeleteRule deletes a rule; a missing rule or chain is fine.
func (f *Fake) DeleteRule(ctx context.Context, t iptables.Table, chainName string, args ...string) error {
	return f.single(ctx, t, func() error {
		if f.x.t.chains[chainName] == nil {
			return nil
		}
		c, r, err := f.argvRule(chainName, args)
		if err != nil {
			return err
		}
		if i := indexSpec(c.rules, r.Spec); i >= 0 {
			f.x.deleteRule(c, i)
		}
		return nil
	})
}

// single runs fn as one transaction on table t.
func (f *Fake) single(ctx context.Context, t iptables.Table, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(t); err != nil {
		return err
	}
	if err := fn(); err != nil {
		f.x.rollback()
		return fmt.Errorf("table %s: %w", t, err)
	}
	f.x.end()
	return nil
}

// argvRule parses a rule given as command-line words.
func (f *Fake) argvRule(chainName string, args []string) (*chain, *Rule, error) {
	c := f.x.t.chains[chainName]
	if c == nil {
		return nil, nil, errors.New("chain " + chainName + " does not exist")
	}
	toks := f.toks[:0]
	for _, a := range args {
		toks = append(toks, token{s: a, quoted: a == "" || strings.ContainsAny(a, " \t")})
	}
	f.toks = toks
	r, err := f.parseRule(c, toks)
	return c, r, err
}
