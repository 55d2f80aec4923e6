package iptables

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
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
	out      bytes.Buffer
	err      error
}

type section struct {
	used           bool
	chains, rules  bytes.Buffer
	deletes        bytes.Buffer
	nChains, nRule int
}

// Reset empties the payload and clears its error, keeping allocated memory.
func (p *Payload) Reset() {
	for i := range p.sections {
		s := &p.sections[i]
		s.used, s.nChains, s.nRule = false, 0, 0
		s.chains.Reset()
		s.rules.Reset()
		s.deletes.Reset()
	}
	p.out.Reset()
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
	writeDecl(&s.chains, chain)
}

// DeleteChain declares chain (flushing it) and deletes it ("-X chain") after
// every rule of the table, so rules written in the same payload may stop
// jumping to it first.
func (p *Payload) DeleteChain(t Table, chain string) {
	s := p.section(t, chain)
	if s == nil {
		return
	}
	writeDecl(&s.chains, chain)
	s.deletes.WriteString("-X ")
	s.deletes.WriteString(chain)
	s.deletes.WriteByte('\n')
}

// Rule appends "-A chain args..." to table. Arguments are written as argv
// words: one holding spaces or quotes (a comment) is quoted for
// iptables-restore, so never pass several words in one argument.
func (p *Payload) Rule(t Table, chain string, args ...string) {
	s := p.section(t, chain)
	if s == nil {
		return
	}
	for _, a := range args {
		if strings.ContainsAny(a, "\n\r\x00") {
			p.fail(fmt.Errorf("rule in %s/%s: argument %q holds a line break", t, chain, a))
			return
		}
	}
	s.nRule++
	b := &s.rules
	b.WriteString("-A ")
	b.WriteString(chain)
	for _, a := range args {
		b.WriteByte(' ')
		writeArg(b, a)
	}
	b.WriteByte('\n')
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
	return p.out.Bytes(), nil
}

// String returns the payload text, even after an error, for logs and tests.
func (p *Payload) String() string {
	p.assemble()
	return p.out.String()
}

func (p *Payload) assemble() {
	p.out.Reset()
	size := 0
	for i := range p.sections {
		s := &p.sections[i]
		size += s.chains.Len() + s.rules.Len() + s.deletes.Len() + 32
	}
	p.out.Grow(size)
	for i, t := range Tables() {
		s := &p.sections[i]
		if !s.used {
			continue
		}
		p.out.WriteByte('*')
		p.out.WriteString(string(t))
		p.out.WriteByte('\n')
		p.out.Write(s.chains.Bytes())
		p.out.Write(s.rules.Bytes())
		p.out.Write(s.deletes.Bytes())
		p.out.WriteString("COMMIT\n")
	}
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

func writeDecl(b *bytes.Buffer, chain string) {
	b.WriteByte(':')
	b.WriteString(chain)
	b.WriteString(" - [0:0]\n")
}

// writeArg writes one argv word, quoting it the way iptables-restore reads
// quotes when it is empty or holds blanks, quotes or backslashes.
func writeArg(b *bytes.Buffer, a string) {
	if a != "" && !strings.ContainsAny(a, " \t\"\\") {
		b.WriteString(a)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		if a[i] == '"' || a[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(a[i])
	}
	b.WriteByte('"')
}
