package iptablestest

import "slices"

// appendSave appends t in iptables-save form (without comments, counters
// always [0:0]) to b.
func (t *table) appendSave(b []byte) []byte {
	users := t.userChains()
	b = slices.Grow(b, t.saveSize())
	b = append(b, '*')
	b = append(b, t.name...)
	b = append(b, '\n')
	for _, c := range t.builtins {
		b = appendDecl(b, c.name, c.policy)
	}
	for _, name := range users {
		b = appendDecl(b, name, "-")
	}
	for _, c := range t.builtins {
		b = appendRules(b, c.rules)
	}
	for _, name := range users {
		b = appendRules(b, t.chains[name].rules)
	}
	return append(b, "COMMIT\n"...)
}

// saveSize estimates the length of t's save text.
func (t *table) saveSize() int {
	n := 64
	for _, c := range t.chains {
		n += len(c.name) + 16
		for _, r := range c.rules {
			n += len(r.Chain) + len(r.Spec) + 5
		}
	}
	return n
}

func appendDecl(b []byte, name, policy string) []byte {
	b = append(b, ':')
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, policy...)
	return append(b, " [0:0]\n"...)
}

func appendRules(b []byte, rules []*Rule) []byte {
	for _, r := range rules {
		b = append(b, "-A "...)
		b = append(b, r.Chain...)
		if r.Spec != "" {
			b = append(b, ' ')
			b = append(b, r.Spec...)
		}
		b = append(b, '\n')
	}
	return b
}
