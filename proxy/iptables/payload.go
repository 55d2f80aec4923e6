package iptables

import (
	"errors"
	"fmt"
	"slices"
)

// Payload builds iptables-restore input in reused buffers. Each table has a
// section of chain declarations, one of rules and one of chain deletions, so
// callers may declare, fill and delete chains in any order: Bytes emits
// every used table as "*table", declarations, rules, deletions, "COMMIT",
// tables in the order of Tables().
//
// Like a knftables transaction, a Payload keeps the first error (an unknown
// table, a bad chain name, an argument with a newline) and Bytes returns it,
// so callers need not check every call. The zero value is ready to use;
// Reset keeps the buffers' memory for the next sync.
type Payload struct {
	sections [numTables]section
	out      []byte
	err      error
}

type section struct {
	used           bool
	chains, rules  []byte
	deletes        []byte
	nChains, nRule int
}

// Reset empties the payload and clears its error, keeping allocated memory.
func (p *Payload) Reset() {
	for i := range p.sections {
		s := &p.sections[i]
		s.used, s.nChains, s.nRule = false, 0, 0
		s.chains, s.rules, s.deletes = s.chains[:0], s.rules[:0], s.deletes[:0]
	}
	p.out = p.out[:0]
	p.err = nil
}

// Chain declares chain in table (":chain - [0:0]"), creating it or, since
// restores run with --noflush, flushing it if it exists.
func (p *Payload) Chain(t Table, chain string) {
	s := p.section(t, chain)
	if s == nil {
		return
	}
	s.nChains++
	s.chains = appendDecl(s.chains, chain)
}

// DeleteChain declares chain (flushing it) and deletes it ("-X chain") after
// every rule of the table, so rules written in the same payload may stop
// jumping to it first.
func (p *Payload) DeleteChain(t Table, chain string) {
	s := p.section(t, chain)
	if s == nil {
		return
	}
	s.chains = appendDecl(s.chains, chain)
	s.deletes = append(s.deletes, "-X "...)
	s.deletes = append(append(s.deletes, chain...), '\n')
}

// Rule appends "-A chain args..." to table. Arguments are written as argv
// words: one holding spaces or quotes (a comment) is quoted for
// iptables-restore, so never pass several words in one argument.
func (p *Payload) Rule(t Table, chain string, args ...string) {
	s := p.section(t, chain)
	if s == nil {
		return
	}
	start := len(s.rules)
	b := append(s.rules, "-A "...)
	b = append(b, chain...)
	for _, a := range args {
		var ok bool
		if b, ok = appendArg(append(b, ' '), a); !ok {
			s.rules = b[:start]
			p.fail(fmt.Errorf("rule in %s/%s: argument %q holds a line break", t, chain, a))
			return
		}
	}
	s.rules = append(b, '\n')
	s.nRule++
}

// Counts returns how many chains were declared (not counting deletions) and
// rules written for table t.
func (p *Payload) Counts(t Table) (chains, rules int) {
	i := tableIndex(t)
	if i < 0 {
		return 0, 0
	}
	return p.sections[i].nChains, p.sections[i].nRule
}

// Empty reports whether nothing was written.
func (p *Payload) Empty() bool {
	for i := range p.sections {
		if p.sections[i].used {
			return false
		}
	}
	return true
}

// Err returns the first error met while building.
func (p *Payload) Err() error { return p.err }

// Bytes assembles the payload. It returns the first error met while
// building instead, so a bad payload is never applied. The slice is valid
// until the next call to any method.
func (p *Payload) Bytes() ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.assemble()
	return p.out, nil
}

// String returns the payload text, even after an error, for logs and tests.
func (p *Payload) String() string {
	p.assemble()
	return string(p.out)
}

func (p *Payload) assemble() {
	size := 0
	for i := range p.sections {
		s := &p.sections[i]
		size += len(s.chains) + len(s.rules) + len(s.deletes) + 32
	}
	out := slices.Grow(p.out[:0], size)
	for i, t := range Tables() {
		s := &p.sections[i]
		if !s.used {
			continue
		}
		out = append(out, '*')
		out = append(out, t...)
		out = append(out, '\n')
		out = append(out, s.chains...)
		out = append(out, s.rules...)
		out = append(out, s.deletes...)
		out = append(out, "COMMIT\n"...)
	}
	p.out = out
}

// section validates the table and chain and returns the table's section,
// or nil after recording an error.
func (p *Payload) section(t Table, chain string) *section {
	if p.err != nil {
		return nil
	}
	i := tableIndex(t)
	if i < 0 {
		p.fail(fmt.Errorf("unknown table %q", t))
		return nil
	}
	if err := CheckChainName(chain); err != nil {
		p.fail(fmt.Errorf("table %s: %w", t, err))
		return nil
	}
	s := &p.sections[i]
	s.used = true
	return s
}

func (p *Payload) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// CheckChainName returns an error unless name is a valid chain name:
// 1 to MaxChainNameLen printable characters, no spaces, not starting with
// '-' or '!'.
func CheckChainName(name string) error {
	switch {
	case name == "":
		return errors.New("empty chain name")
	case len(name) > MaxChainNameLen:
		return fmt.Errorf("chain name %q longer than %d characters", name, MaxChainNameLen)
	case name[0] == '-' || name[0] == '!':
		return fmt.Errorf("chain name %q starts with %q", name, name[0])
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			return fmt.Errorf("chain name %q holds character %q", name, c)
		}
	}
	return nil
}

// Character classes of appendArg.
const (
	argQuote = 1 << iota // must be quoted
	argBad               // cannot be written
)

var argClass = [256]byte{' ': argQuote, '\t': argQuote, '"': argQuote, '\\': argQuote, '\n': argBad, '\r': argBad, 0: argBad}

func appendDecl(b []byte, chain string) []byte {
	b = append(b, ':')
	b = append(b, chain...)
	return append(b, " - [0:0]\n"...)
}

// appendArg appends one argv word, quoting it the way iptables-restore
// reads quotes when it is empty or holds blanks, quotes or backslashes. It
// reports false for a word holding a line break or NUL.
func appendArg(b []byte, a string) ([]byte, bool) {
	var class byte
	for i := 0; i < len(a); i++ {
		class |= argClass[a[i]]
	}
	if class&argBad != 0 {
		return b, false
	}
	if class == 0 && a != "" {
		return append(b, a...), true
	}
	b = append(b, '"')
	for i := 0; i < len(a); i++ {
		if a[i] == '"' || a[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, a[i])
	}
	return append(b, '"'), true
}
