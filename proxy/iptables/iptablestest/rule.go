package iptablestest

// Rule is one rule as the Fake holds it, canonicalised the way
// iptables-save prints it. Rules are immutable once stored.
type Rule struct {
	// Chain is the chain holding the rule.
	Chain string
	// Spec is the rule as iptables-save prints it after "-A <chain> ".
	Spec string
	// Args are the parsed words of Spec, in order.
	Args []Arg
	// Target is the -j or -g target, "" for a rule without one.
	Target string
	// Goto is set when the target was given with -g.
	Goto bool

	matchEnd int    // Args[:matchEnd] are matches, the rest the target
	jump     *chain // the user chain Target names, if any
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

// Matches returns the generic options and match options of r.
func (r *Rule) Matches() []Arg { return r.Args[:r.matchEnd] }

// TargetArgs returns the -j or -g argument and the target's options, or
// nothing for a rule without a target.
func (r *Rule) TargetArgs() []Arg { return r.Args[r.matchEnd:] }

// Get returns the first option of r with the given module and flag.
func (r *Rule) Get(module, flag string) (Arg, bool) {
	for _, a := range r.Args {
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
