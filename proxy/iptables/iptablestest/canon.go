package iptablestest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// pending is one option while a rule is parsed.
type pending struct {
	neg   bool
	flag  string
	vals  [2]string
	n     int  // number of values
	rank  int  // print position within its module
	quote bool // print values with iptables-save's string quoting
}

// group is one match (-m) or the target (-j, -g) with its options.
type group struct {
	name   string
	spec   *modSpec // nil for a match the Fake does not know
	target bool
	gotoT  bool
	args   []pending
}

func (g *group) find(flag string) int {
	for i := range g.args {
		if g.args[i].flag == flag {
			return i
		}
	}
	return -1
}

// add appends a, ranking it by the module's print order.
func (g *group) add(a pending) {
	a.rank = len(g.args)
	if g.spec != nil && g.spec.ordered {
		a.rank = g.spec.lookup(a.flag)
	}
	g.args = append(g.args, a)
}

// Generic options, in the order iptables-save prints them.
var genericFlags = [...]string{"-s", "-d", "-i", "-o", "-p"}

const slotProto = 4

func genericSlot(flag string) int {
	switch flag {
	case "-s", "--source", "--src":
		return 0
	case "-d", "--destination", "--dst":
		return 1
	case "-i", "--in-interface":
		return 2
	case "-o", "--out-interface":
		return 3
	case "-p", "--protocol":
		return slotProto
	}
	return -1
}

var genericNorm = [...]normFn{normAddr, normAddr, normIface, normIface, normProto}

// ruleParser turns the words of a rule into a canonical Rule. Its buffers
// are reused from rule to rule.
type ruleParser struct {
	family iptables.Family
	table  iptables.Table

	gen      [5]pending
	genSet   [5]bool
	groups   []group
	target   int     // index of the target group, -1 for none
	tmp      pending // the option being read; a field so it does not escape
	matchEnd int     // number of printed arguments before the target
	buf      []byte
	scratch  []byte
	offs     []argOffs
}

// argOffs locates one Arg inside the Spec being printed.
type argOffs struct {
	module     int // index of the -m/-j arg owning it, -1 for none
	neg        bool
	flag, v1   span
	v2         span
	n          int
	raw1, raw2 string // values that could not be located (escaped)
}

type span struct{ start, end int }

func (p *ruleParser) reset() {
	p.genSet = [5]bool{}
	p.groups = p.groups[:0]
	p.target = -1
}

func (p *ruleParser) proto() string {
	if !p.genSet[slotProto] || p.gen[slotProto].neg {
		return ""
	}
	return p.gen[slotProto].vals[0]
}

// addGroup appends a group, reusing the memory of earlier rules.
func (p *ruleParser) addGroup(name string, spec *modSpec, target bool) int {
	n := len(p.groups)
	if n < cap(p.groups) {
		p.groups = p.groups[:n+1]
	} else {
		p.groups = append(p.groups, group{})
	}
	g := &p.groups[n]
	*g = group{name: name, spec: spec, target: target, args: g.args[:0]}
	return n
}

// parse reads the words of a rule (everything after the chain name).
func (p *ruleParser) parse(toks []token) error {
	p.reset()
	neg := false
	for i := 0; i < len(toks); {
		t := toks[i]
		i++
		if !t.quoted && t.s == "!" {
			if neg {
				return errors.New("multiple ! flags not allowed")
			}
			neg = true
			continue
		}
		if t.quoted || len(t.s) < 2 || t.s[0] != '-' {
			return fmt.Errorf("bad argument %q", t.s)
		}
		next := func() (string, error) {
			if i >= len(toks) {
				return "", fmt.Errorf("option %q requires an argument", t.s)
			}
			i++
			return toks[i-1].s, nil
		}
		if slot := genericSlot(t.s); slot >= 0 {
			v, err := next()
			if err != nil {
				return err
			}
			if p.genSet[slot] {
				return fmt.Errorf("multiple %s flags not allowed", genericFlags[slot])
			}
			a := &p.tmp
			*a = pending{neg: neg, flag: genericFlags[slot], vals: [2]string{v}, n: 1}
			if err := genericNorm[slot](p, a); err != nil {
				return err
			}
			neg = false
			everyone := slot < 2 && (a.vals[0] == "0.0.0.0/0" || a.vals[0] == "::/0")
			if everyone && a.neg {
				return fmt.Errorf("! %s %s: nf_tables rejects matching no address", a.flag, a.vals[0])
			}
			if !a.neg && (everyone || slot == slotProto && a.vals[0] == "all") {
				continue // iptables-save prints neither "-p all" nor "-s 0.0.0.0/0"
			}
			p.gen[slot], p.genSet[slot] = *a, true
			continue
		}
		switch t.s {
		case "-m", "--match", "-j", "--jump", "-g", "--goto":
			if neg {
				return fmt.Errorf("cannot negate %s", t.s)
			}
			v, err := next()
			if err != nil {
				return err
			}
			if t.s == "-m" || t.s == "--match" {
				p.addGroup(v, matchSpecs[v], false)
				continue
			}
			if p.target >= 0 {
				return errors.New("multiple -j flags not allowed")
			}
			spec := targetSpecs[v]
			if spec == nil {
				spec = chainTarget
			}
			p.target = p.addGroup(v, spec, true)
			p.groups[p.target].gotoT = t.s == "-g" || t.s == "--goto"
			continue
		}
		var err error
		if i, err = p.option(toks, i, t.s, neg); err != nil {
			return err
		}
		neg = false
	}
	if neg {
		return errors.New("! at the end of the rule")
	}
	return p.finish()
}

// option reads the option flag whose values start at toks[i] and returns
// the index after them.
func (p *ruleParser) option(toks []token, i int, flag string, neg bool) (int, error) {
	gi, oi, err := p.owner(flag)
	if err != nil {
		return i, err
	}
	g := &p.groups[gi]
	a := &p.tmp
	*a = pending{neg: neg, flag: flag}
	if oi >= 0 {
		o := &g.spec.opts[oi]
		a.flag, a.quote, a.n = o.flag, o.quote, o.nvals
		if i+a.n > len(toks) {
			return i, fmt.Errorf("option %q requires %d arguments", flag, a.n)
		}
		for k := 0; k < a.n; k++ {
			a.vals[k] = toks[i+k].s
		}
		i += a.n
		if o.norm != nil {
			if err := o.norm(p, a); err != nil {
				return i, err
			}
		}
		if g.find(a.flag) >= 0 {
			return i, fmt.Errorf("only one `%s' allowed", a.flag)
		}
	} else {
		// An option of a match the Fake does not know: its values are the
		// words up to the next option.
		for i < len(toks) && (toks[i].quoted || toks[i].s != "!" && !strings.HasPrefix(toks[i].s, "-")) {
			if a.n == 2 {
				return i, fmt.Errorf("option %q: too many arguments", flag)
			}
			a.vals[a.n], a.quote = toks[i].s, a.quote || toks[i].quoted
			a.n++
			i++
		}
	}
	g.add(*a)
	return i, nil
}

// owner finds the group an option belongs to: the latest loaded module
// that knows it, else the match -p loads implicitly, else a preceding
// match the Fake does not know.
func (p *ruleParser) owner(flag string) (gi, oi int, err error) {
	for gi := len(p.groups) - 1; gi >= 0; gi-- {
		if s := p.groups[gi].spec; s != nil {
			if oi := s.lookup(flag); oi >= 0 {
				return gi, oi, nil
			}
		}
	}
	if name := protoMatch(p.proto()); name != "" {
		spec := matchSpecs[name]
		if oi := spec.lookup(flag); oi >= 0 {
			return p.addGroup(name, spec, false), oi, nil
		}
	}
	if n := len(p.groups); n > 0 && p.groups[n-1].spec == nil {
		return n - 1, -1, nil
	}
	return 0, 0, fmt.Errorf("unknown option %q", flag)
}

// finish applies module defaults and checks, then sorts options into the
// order iptables-save prints them.
func (p *ruleParser) finish() error {
	for gi := range p.groups {
		g := &p.groups[gi]
		if g.spec == nil {
			continue
		}
		if g.spec.finish != nil {
			if err := g.spec.finish(p, g); err != nil {
				return err
			}
		}
		if g.spec.ordered {
			sortByRank(g.args)
		}
	}
	if p.target >= 0 {
		s := p.groups[p.target].spec
		if s.natOnly && p.table != iptables.TableNAT {
			return fmt.Errorf("%s target is only valid in the nat table", s.name)
		}
		if s.notNat && p.table == iptables.TableNAT {
			return fmt.Errorf("the nat table is not intended for filtering, %s is not allowed", s.name)
		}
	}
	return nil
}

func sortByRank(args []pending) {
	for i := 1; i < len(args); i++ {
		for j := i; j > 0 && args[j].rank < args[j-1].rank; j-- {
			args[j], args[j-1] = args[j-1], args[j]
		}
	}
}
