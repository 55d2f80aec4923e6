package iptablestest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// table returns table t, creating it with its built-in chains.
func (f *Fake) table(t iptables.Table) (*table, error) {
	if tbl := f.tables[t]; tbl != nil {
		return tbl, nil
	}
	if !t.Valid() {
		return nil, fmt.Errorf("table %q does not exist", t)
	}
	tbl := newTable(t)
	f.tables[t] = tbl
	return tbl, nil
}

// begin starts a transaction on table t.
func (f *Fake) begin(t iptables.Table) error {
	tbl, err := f.table(t)
	if err != nil {
		return err
	}
	f.lastTxn++
	f.x.t, f.x.id = tbl, f.lastTxn
	f.p.table = t
	return nil
}

func (f *Fake) command() string {
	if f.family == iptables.IPv6 {
		return "ip6tables-restore (fake)"
	}
	return "iptables-restore (fake)"
}

func (f *Fake) lineError(n int, line string, err error) error {
	return &iptables.RestoreError{Command: f.command(), ExitCode: 1, Line: n, Rule: strings.Clone(line), Output: err.Error()}
}

// restore applies a payload; see Restore.
func (f *Fake) restore(payload []byte) error {
	text := string(payload)
	n := 0
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		n++
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		var err error
		switch {
		case line[0] == '*':
			if f.x.t != nil {
				err = errors.New("COMMIT expected before a new table")
			} else {
				err = f.begin(iptables.Table(line[1:]))
			}
		case line == "COMMIT":
			if f.x.t == nil {
				err = errors.New("COMMIT outside a table")
			} else {
				f.x.end()
			}
		case f.x.t == nil:
			err = errors.New("no table specified")
		default:
			err = f.apply(line)
		}
		if err != nil {
			if f.x.t != nil {
				f.x.rollback()
			}
			return f.lineError(n, line, err)
		}
	}
	if f.x.t != nil {
		f.x.rollback()
		return f.lineError(n+1, "", errors.New("COMMIT expected"))
	}
	return nil
}

// apply runs one line of a table section.
func (f *Fake) apply(line string) error {
	if line[0] == ':' {
		return f.declare(line[1:])
	}
	toks, err := tokenize(line, f.toks)
	f.toks = toks
	if err != nil {
		return err
	}
	cmd, args := toks[0].s, toks[1:]
	name := ""
	if len(args) > 0 {
		name = args[0].s
		args = args[1:]
	}
	switch cmd {
	case "-A", "--append":
		c, err := f.chain(name)
		if err != nil {
			return err
		}
		r, err := f.parseRule(c, args)
		if err != nil {
			return err
		}
		return f.x.appendRule(c, r)
	case "-I", "--insert":
		c, err := f.chain(name)
		if err != nil {
			return err
		}
		pos := 1
		if len(args) > 0 && !args[0].quoted {
			if n, err := strconv.Atoi(args[0].s); err == nil {
				pos, args = n, args[1:]
			}
		}
		r, err := f.parseRule(c, args)
		if err != nil {
			return err
		}
		return f.x.insertRule(c, pos, r)
	case "-D", "--delete":
		return f.deleteCmd(name, args)
	case "-F", "--flush":
		return f.eachChain(name, args, func(c *chain) error { f.x.flush(c); return nil })
	case "-X", "--delete-chain":
		return f.deleteChains(name, args)
	case "-N", "--new-chain":
		if len(args) > 0 || name == "" {
			return errors.New("-N takes one chain name")
		}
		if f.x.t.chains[name] != nil {
			return errors.New("chain already exists")
		}
		_, err := f.x.create(name)
		return err
	case "-P", "--policy":
		if len(args) != 1 {
			return errors.New("-P takes a chain and a policy")
		}
		return f.setPolicy(name, args[0].s)
	case "-Z", "--zero":
		return nil // counters are not modelled
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// declare handles ":CHAIN POLICY [packets:bytes]". With --noflush it
// flushes an existing user chain, creates a missing one and sets the policy
// of a built-in one.
func (f *Fake) declare(decl string) error {
	name, rest, _ := strings.Cut(decl, " ")
	policy, counters, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if name == "" || policy == "" || strings.ContainsAny(strings.TrimSpace(counters), " \t") {
		return fmt.Errorf("bad chain declaration %q", ":"+decl)
	}
	c := f.x.t.chains[name]
	if c != nil && c.builtin {
		if policy == "-" {
			return nil
		}
		return f.setPolicy(name, policy)
	}
	if policy != "-" {
		return fmt.Errorf("cannot set policy %q on user chain %q", policy, name)
	}
	if c != nil {
		f.x.flush(c)
		return nil
	}
	_, err := f.x.create(name)
	return err
}

func (f *Fake) setPolicy(name, policy string) error {
	c := f.x.t.chains[name]
	if c == nil || !c.builtin {
		return fmt.Errorf("cannot set policy on %q: not a built-in chain", name)
	}
	if policy != "ACCEPT" && policy != "DROP" {
		return fmt.Errorf("bad policy %q", policy)
	}
	f.x.save(c)
	c.policy = policy
	return nil
}

// chain returns the named chain of the current table.
func (f *Fake) chain(name string) (*chain, error) {
	if name == "" {
		return nil, errors.New("chain name required")
	}
	c := f.x.t.chains[name]
	if c == nil {
		return nil, fmt.Errorf("chain %q does not exist", name)
	}
	return c, nil
}

// parseRule parses the words of a rule for chain c.
func (f *Fake) parseRule(c *chain, args []token) (*Rule, error) {
	if err := f.p.parse(args); err != nil {
		return nil, err
	}
	if f.sets != nil {
		for gi := range f.p.groups {
			g := &f.p.groups[gi]
			if i := g.find("--match-set"); g.name == "set" && !g.target && i >= 0 {
				if _, ok := f.sets.IPSet(g.args[i].vals[0]); !ok {
					return nil, fmt.Errorf("set %s doesn't exist", g.args[i].vals[0])
				}
			}
		}
	}
	return f.p.emit(c.name), nil
}

// deleteCmd handles "-D CHAIN rule" and "-D CHAIN N".
func (f *Fake) deleteCmd(name string, args []token) error {
	c, err := f.chain(name)
	if err != nil {
		return err
	}
	if len(args) == 1 && !args[0].quoted {
		if n, err := strconv.Atoi(args[0].s); err == nil {
			if n < 1 || n > len(c.rules) {
				return errors.New("index of deletion too big")
			}
			f.x.deleteRule(c, n-1)
			return nil
		}
	}
	r, err := f.parseRule(c, args)
	if err != nil {
		return err
	}
	i := indexSpec(c.rules, r.Spec)
	if i < 0 {
		return errors.New("bad rule (does a matching rule exist in that chain?)")
	}
	f.x.deleteRule(c, i)
	return nil
}

func indexSpec(rules []*Rule, spec string) int {
	for i, r := range rules {
		if r.Spec == spec {
			return i
		}
	}
	return -1
}

// eachChain runs fn on the named chain, or on every chain when name is "".
func (f *Fake) eachChain(name string, args []token, fn func(*chain) error) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0].s)
	}
	if name != "" {
		c, err := f.chain(name)
		if err != nil {
			return err
		}
		return fn(c)
	}
	for _, c := range f.x.t.chains {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// deleteChains handles "-X CHAIN" and "-X" (every user chain).
func (f *Fake) deleteChains(name string, args []token) error {
	if name != "" || len(args) > 0 {
		return f.eachChain(name, args, f.x.deleteChain)
	}
	for _, c := range f.x.t.chains {
		if !c.builtin && len(c.rules) > 0 {
			return fmt.Errorf("chain %q is not empty", c.name)
		}
	}
	for _, c := range f.x.t.chains {
		if c.builtin {
			continue
		}
		if err := f.x.deleteChain(c); err != nil {
			return err
		}
	}
	return nil
}

// cutField returns the first blank-separated field of s and the rest.
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}
