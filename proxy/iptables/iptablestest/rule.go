package iptablestest

import (
	"sync/atomic"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// Rule is one rule as the Fake holds it, canonicalised the way
// iptables-save prints it. Rules are immutable once stored.
type Rule struct {
	// Chain is the chain holding the rule.
	Chain string
	// Spec is the rule as iptables-save prints it after "-A <chain> ".
	Spec string
	// Target is the -j or -g target, "" for a rule without one.
	Target string
	// Goto is set when the target was given with -g.
	Goto bool

	toChain bool   // Target names a user chain
	jump    *chain // that chain, once linked
	family  iptables.Family
	table   iptables.Table
	parsed  atomic.Pointer[parsedArgs]
}

// parsedArgs caches the Args of a rule.
type parsedArgs struct {
	args     []Arg
	matchEnd int // args[:matchEnd] are matches, the rest the target
}

// Arg is one option of a rule: a generic option (-s, -d, -i, -o, -p), a
// module or target name (-m, -j, -g) or an option of a match or target.
type Arg struct {
	// Module is the match or target owning the option ("tcp", "DNAT"), ""
	// for generic options and for -m, -j and -g themselves.
	Module string
	// Neg is set for an option negated with "!".
	Neg bool
	// Flag is the option, such as "-d", "-m" or "--dport".
	Flag string
	// Value and Value2 are its values; most options have at most one.
	Value, Value2 string
}

// Args returns the parsed words of Spec, in order. They are derived from
// Spec on first use and must not be modified.
func (r *Rule) Args() []Arg { return r.parse().args }

// Matches returns the generic options and match options of r.
func (r *Rule) Matches() []Arg {
	p := r.parse()
	return p.args[:p.matchEnd]
}

// TargetArgs returns the -j or -g argument and the target's options, or
// nothing for a rule without a target.
func (r *Rule) TargetArgs() []Arg {
	p := r.parse()
	return p.args[p.matchEnd:]
}

// parse derives the Args from Spec, which is canonical and so parses back
// to itself; concurrent callers may both parse, harmlessly.
func (r *Rule) parse() *parsedArgs {
	if p := r.parsed.Load(); p != nil {
		return p
	}
	rp := ruleParser{family: r.family, table: r.table}
	toks, err := tokenize(r.Spec, nil)
	if err == nil {
		err = rp.parse(toks)
	}
	p := &parsedArgs{}
	if err == nil {
		rp.print()
		spec := r.Spec
		if string(rp.buf) != spec { // cannot happen for a stored rule
			spec = string(rp.buf)
		}
		p.args, p.matchEnd = rp.args(spec), rp.matchEnd
	}
	r.parsed.Store(p)
	return p
}

// Get returns the first option of r with the given module and flag.
func (r *Rule) Get(module, flag string) (Arg, bool) {
	for _, a := range r.Args() {
		if a.Module == module && a.Flag == flag {
			return a, true
		}
	}
	return Arg{}, false
}

// Comment returns the text of r's first comment match, or "".
func (r *Rule) Comment() string {
	a, _ := r.Get("comment", "--comment")
	return a.Value
}

// String returns the rule as iptables-save prints it.
func (r *Rule) String() string {
	if r.Spec == "" {
		return "-A " + r.Chain
	}
	return "-A " + r.Chain + " " + r.Spec
}
