package iptablestest

import (
	"fmt"
	"strings"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// chain is one chain of a table.
type chain struct {
	name    string
	builtin bool
	policy  string // ACCEPT or DROP for built-in chains, "-" for user chains
	rules   []*Rule
	refs    int    // rules of the table that jump or go to this chain
	txn     uint64 // the transaction that last saved this chain's state
}

// table is one table: its chains by name, built-in chains in hook order.
type table struct {
	name     iptables.Table
	chains   map[string]*chain
	builtins []*chain
}

func newTable(name iptables.Table) *table {
	t := &table{name: name, chains: make(map[string]*chain)}
	for _, b := range iptables.BuiltinChains(name) {
		c := &chain{name: b, builtin: true, policy: "ACCEPT"}
		t.chains[b] = c
		t.builtins = append(t.builtins, c)
	}
	return t
}

// pristine reports whether t holds nothing but empty accepting built-ins.
func (t *table) pristine() bool {
	if len(t.chains) != len(t.builtins) {
		return false
	}
	for _, c := range t.builtins {
		if len(c.rules) > 0 || c.policy != "ACCEPT" {
			return false
		}
	}
	return true
}

// undo is the state of a chain before a transaction first changed it.
type undo struct {
	c       *chain
	rules   []*Rule
	refs    int
	policy  string
	existed bool // false: the transaction created the chain
}

// txn changes one table in place and can roll every change back, which is
// how the Fake applies a table section atomically without copying the
// table. Rule slices saved in the log are never written to: changes build
// new slices or append past the saved length.
type txn struct {
	t   *table
	id  uint64
	log []undo
}

// save records c's state the first time the transaction touches it.
func (x *txn) save(c *chain) {
	if c.txn == x.id {
		return
	}
	c.txn = x.id
	x.log = append(x.log, undo{c: c, rules: c.rules, refs: c.refs, policy: c.policy, existed: true})
}

func (x *txn) rollback() {
	for i := len(x.log) - 1; i >= 0; i-- {
		u := &x.log[i]
		if !u.existed {
			delete(x.t.chains, u.c.name)
			continue
		}
		u.c.rules, u.c.refs, u.c.policy = u.rules, u.refs, u.policy
		x.t.chains[u.c.name] = u.c
	}
	x.end()
}

// end forgets the log, keeping its memory.
func (x *txn) end() {
	clear(x.log)
	x.log = x.log[:0]
	x.t = nil
}

// create adds a new empty user chain.
func (x *txn) create(name string) (*chain, error) {
	if err := iptables.CheckChainName(name); err != nil {
		return nil, err
	}
	if isBuiltinTarget(name) {
		return nil, fmt.Errorf("chain name %q is a target name", name)
	}
	c := &chain{name: strings.Clone(name), policy: "-", txn: x.id}
	x.log = append(x.log, undo{c: c})
	x.t.chains[c.name] = c
	return c, nil
}

// link resolves r's target to a user chain and counts the reference.
func (x *txn) link(r *Rule) error {
	if !r.toChain {
		return nil
	}
	c := x.t.chains[r.Target]
	if c == nil {
		return fmt.Errorf("chain %q does not exist", r.Target)
	}
	if c.builtin {
		return fmt.Errorf("cannot jump to built-in chain %q", r.Target)
	}
	x.save(c)
	c.refs++
	r.jump = c
	return nil
}

// unlink drops the reference r holds on its target chain.
func (x *txn) unlink(r *Rule) {
	if r.jump != nil {
		x.save(r.jump)
		r.jump.refs--
	}
}

func (x *txn) appendRule(c *chain, r *Rule) error {
	if err := x.link(r); err != nil {
		return err
	}
	x.save(c)
	c.rules = append(c.rules, r)
	return nil
}

// insertRule puts r at 1-based position pos.
func (x *txn) insertRule(c *chain, pos int, r *Rule) error {
	if pos < 1 || pos > len(c.rules)+1 {
		return fmt.Errorf("index of insertion too big")
	}
	if err := x.link(r); err != nil {
		return err
	}
	x.save(c)
	rules := make([]*Rule, 0, len(c.rules)+1)
	rules = append(rules, c.rules[:pos-1]...)
	rules = append(rules, r)
	c.rules = append(rules, c.rules[pos-1:]...)
	return nil
}

// deleteRule removes the rule at 0-based index i.
func (x *txn) deleteRule(c *chain, i int) {
	x.save(c)
	x.unlink(c.rules[i])
	rules := make([]*Rule, 0, len(c.rules)-1)
	rules = append(rules, c.rules[:i]...)
	c.rules = append(rules, c.rules[i+1:]...)
}

func (x *txn) flush(c *chain) {
	if len(c.rules) == 0 {
		return
	}
	x.save(c)
	for _, r := range c.rules {
		x.unlink(r)
	}
	// A new slice, as the log may hold the old one; sized for a refill.
	c.rules = make([]*Rule, 0, len(c.rules))
}

// deleteChain removes an empty, unreferenced user chain.
func (x *txn) deleteChain(c *chain) error {
	switch {
	case c.builtin:
		return fmt.Errorf("cannot delete built-in chain %q", c.name)
	case c.refs > 0:
		return fmt.Errorf("chain %q is in use (%d references)", c.name, c.refs)
	case len(c.rules) > 0:
		return fmt.Errorf("chain %q is not empty", c.name)
	}
	x.save(c)
	delete(x.t.chains, c.name)
	return nil
}
