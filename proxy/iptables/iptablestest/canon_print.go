package iptablestest

import "strings"

// emit prints the parsed rule as the Rule for chainName. Its Args are
// derived on demand (see Rule.Args), so a stored rule costs one string.
func (p *ruleParser) emit(chainName string) *Rule {
	p.print()
	r := &Rule{Chain: chainName, Spec: string(p.buf), family: p.family, table: p.table}
	if p.target >= 0 {
		g := &p.groups[p.target]
		r.Goto, r.toChain = g.gotoT, g.spec == chainTarget
		switch {
		case !r.toChain:
			r.Target = g.spec.name // a constant: keeps no payload alive
		case needsQuote(g.name):
			r.Target = strings.Clone(g.name)
		default: // a chain takes no options: its name ends Spec
			r.Target = r.Spec[len(r.Spec)-len(g.name):]
		}
	}
	return r
}

// print writes the canonical rule into p.buf and records where each
// argument's words are in p.offs.
func (p *ruleParser) print() {
	p.buf, p.offs = p.buf[:0], p.offs[:0]
	for slot := range p.gen {
		if p.genSet[slot] {
			p.emitArg(-1, &p.gen[slot])
		}
	}
	for gi := range p.groups {
		if gi != p.target {
			p.emitGroup(gi, "-m")
		}
	}
	p.matchEnd = len(p.offs)
	if p.target >= 0 {
		flag := "-j"
		if p.groups[p.target].gotoT {
			flag = "-g"
		}
		p.emitGroup(p.target, flag)
	}
}

// args builds the Args of the rule just printed, with strings pointing
// into spec, which must equal the printed text.
func (p *ruleParser) args(spec string) []Arg {
	args := make([]Arg, len(p.offs))
	for i := range p.offs {
		o := &p.offs[i]
		a := &args[i]
		a.Neg, a.Flag = o.neg, spec[o.flag.start:o.flag.end]
		if o.n > 0 {
			a.Value = pick(spec, o.v1, o.raw1)
		}
		if o.n > 1 {
			a.Value2 = pick(spec, o.v2, o.raw2)
		}
		if o.module >= 0 {
			a.Module = args[o.module].Value
		}
	}
	return args
}

func pick(spec string, s span, raw string) string {
	if s.start < 0 {
		return raw
	}
	return spec[s.start:s.end]
}

func (p *ruleParser) emitGroup(gi int, flag string) {
	g := &p.groups[gi]
	head := pending{flag: flag, vals: [2]string{g.name}, n: 1}
	p.emitArg(-1, &head)
	mi := len(p.offs) - 1
	for k := range g.args {
		p.emitArg(mi, &g.args[k])
	}
}

func (p *ruleParser) emitArg(module int, a *pending) {
	o := argOffs{module: module, neg: a.neg, n: a.n}
	if len(p.buf) > 0 {
		p.buf = append(p.buf, ' ')
	}
	if a.neg {
		p.buf = append(p.buf, "! "...)
	}
	o.flag.start = len(p.buf)
	p.buf = append(p.buf, a.flag...)
	o.flag.end = len(p.buf)
	for k := 0; k < a.n; k++ {
		p.buf = append(p.buf, ' ')
		v := a.vals[k]
		sp := span{start: len(p.buf)}
		raw := ""
		if a.quote || needsQuote(v) {
			p.buf = saveQuote(p.buf, v)
			if len(p.buf)-sp.start == len(v) { // printed bare
				sp.end = len(p.buf)
			} else if len(p.buf)-sp.start == len(v)+2 { // plain quotes
				sp = span{sp.start + 1, len(p.buf) - 1}
			} else { // escaped: keep a private copy
				sp, raw = span{-1, -1}, strings.Clone(v)
			}
		} else {
			p.buf = append(p.buf, v...)
			sp.end = len(p.buf)
		}
		if k == 0 {
			o.v1, o.raw1 = sp, raw
		} else {
			o.v2, o.raw2 = sp, raw
		}
	}
	p.offs = append(p.offs, o)
}
