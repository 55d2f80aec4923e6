package userspace

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// A full sync rewrites the five portal chains; a partial sync changes only the
// rules of the service ports whose portals changed, as the iptables mode does in
// its shared chains: it deletes their old rules by their exact text ("-D chain
// spec") and inserts the new ones ("-I chain n spec") where a full sync would
// have put them. The backend keeps what the chains hold after each successful
// restore, as rule texts per service port, to know both.

// portalRules are one service port's rules, per chain (indexed like chains()),
// each as the text following "-A <chain> " in iptables-restore input.
type portalRules [numChains][]string

// numChains is the number of the mode's chains.
const numChains = 5

// portalEntry is one service port's part of the chains.
type portalEntry struct {
	internal, external int // the listener ports the rules send traffic to
	rules              portalRules
}

// portalState is what the portal chains hold.
type portalState struct {
	cfg     portalConfig
	order   []proxy.ServicePortName // the service ports with rules, in chain order
	entries map[proxy.ServicePortName]*portalEntry
}

// specRenderer renders one service port's rules at a time into rule texts,
// through a Payload so that arguments are quoted as in a full sync.
type specRenderer struct {
	cfg  portalConfig
	p    iptables.Payload
	args []string
}

// render returns pt's rules.
func (s *specRenderer) render(pt portal) (*portalEntry, error) {
	s.p.Reset()
	r := portalRenderer{p: &s.p, cfg: s.cfg, args: s.args}
	r.service(pt)
	s.args = r.args
	data, err := s.p.Bytes()
	if err != nil {
		return nil, err
	}
	e := &portalEntry{internal: pt.internal, external: pt.external}
	var table string
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		switch {
		case len(line) > 0 && line[0] == '*':
			table = string(line[1:])
		case bytes.HasPrefix(line, []byte("-A ")):
			chain, spec, _ := strings.Cut(string(line[3:]), " ")
			if i := chainIndex(iptables.Table(table), chain); i >= 0 {
				e.rules[i] = append(e.rules[i], spec)
			}
		}
	}
	return e, nil
}

// chainIndex returns the position of a chain in chains(), or -1.
func chainIndex(t iptables.Table, name string) int {
	return slices.Index(chains(), chain{t, name})
}

// writeDiff writes into buf the iptables-restore input turning old's chains into
// next's: per table, the deletions of the rules of every service port that
// changed in a chain, then the insertions of their new rules at the position
// each has in next. Deleting first leaves every chain with the unchanged ports'
// rules only, in order, so positions counted in next are right for insertions
// made in ascending order. It writes nothing when the chains are the same.
func writeDiff(buf *bytes.Buffer, old, next *portalState) {
	buf.Reset()
	for _, t := range iptables.Tables() {
		start := buf.Len()
		for i, c := range chains() {
			if c.table == t {
				writeDeletes(buf, i, c.name, old, next)
			}
		}
		for i, c := range chains() {
			if c.table == t {
				writeInserts(buf, i, c.name, old, next)
			}
		}
		if buf.Len() > start {
			section := slices.Clone(buf.Bytes()[start:])
			buf.Truncate(start)
			buf.WriteString("*" + string(t) + "\n")
			buf.Write(section)
			buf.WriteString("COMMIT\n")
		}
	}
}

// changedIn reports whether a service port's rules in chain i differ between
// the states (a port missing from one has none there).
func changedIn(i int, name proxy.ServicePortName, old, next *portalState) bool {
	var was, is []string
	if e := old.entries[name]; e != nil {
		was = e.rules[i]
	}
	if e := next.entries[name]; e != nil {
		is = e.rules[i]
	}
	return !slices.Equal(was, is)
}

// writeDeletes writes "-D chain spec" for the old rules of chain i of every
// service port whose rules there changed.
func writeDeletes(buf *bytes.Buffer, i int, chain string, old, next *portalState) {
	for _, name := range old.order {
		if !changedIn(i, name, old, next) {
			continue
		}
		for _, spec := range old.entries[name].rules[i] {
			buf.WriteString("-D " + chain + " " + spec + "\n")
		}
	}
}

// writeInserts writes "-I chain n spec" for the new rules of chain i of every
// service port whose rules there changed, n counting the rules before it in
// next.
func writeInserts(buf *bytes.Buffer, i int, chain string, old, next *portalState) {
	pos := 0
	for _, name := range next.order {
		rules := next.entries[name].rules[i]
		if !changedIn(i, name, old, next) {
			pos += len(rules)
			continue
		}
		for _, spec := range rules {
			pos++
			buf.WriteString("-I " + chain + " " + strconv.Itoa(pos) + " " + spec + "\n")
		}
	}
}
