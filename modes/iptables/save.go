package iptablesmode

import (
	"bufio"
	"bytes"
	"strings"
)

// savedTable is what the backend reads from iptables-save output of one table.
type savedTable struct {
	// chains are the chains the table declares, in order.
	chains []string
	// rules are the table's rules in order, except those of per-service chains
	// (isServiceChain): what reads a saved table only looks at the jumps other
	// chains make into kproxy's, and a big cluster's save holds 100,000 rules of
	// per-service chains not worth keeping in memory.
	rules []savedRule
}

// savedRule is one "-A chain spec" line of iptables-save output.
type savedRule struct {
	chain, spec, target string
}

// parseSave reads the section of table in iptables-save output (the whole output
// when it holds no "*table" line).
func parseSave(data []byte, table string) savedTable {
	var t savedTable
	in := !bytes.Contains(data, []byte("\n*")) && !bytes.HasPrefix(data, []byte("*"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		switch {
		case len(line) > 0 && line[0] == '*':
			in = string(line[1:]) == table
		case !in || len(line) == 0 || line[0] == '#' || string(line) == "COMMIT":
		case line[0] == ':':
			name, _, _ := bytes.Cut(line[1:], []byte(" "))
			t.chains = append(t.chains, string(name))
		case bytes.HasPrefix(line, []byte("-A ")):
			chain, spec, _ := bytes.Cut(line[3:], []byte(" "))
			if serviceChainBytes(chain) {
				continue
			}
			sp := string(spec)
			t.rules = append(t.rules, savedRule{chain: string(chain), spec: sp, target: ruleTarget(sp)})
		}
	}
	return t
}

// serviceChainBytes is isServiceChain for a name still in the scanner's buffer.
func serviceChainBytes(chain []byte) bool {
	for _, p := range [...]string{prefixService, prefixLocal, prefixExternal, prefixFirewall, prefixEndpoint, prefixOldLocal} {
		if bytes.HasPrefix(chain, []byte(p)) {
			return true
		}
	}
	return false
}

// ruleTarget returns the -j (or -g) target of a rule spec, "" when it has none.
func ruleTarget(spec string) string {
	f := fields(spec)
	target := ""
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "--jump" || f[i] == "-g" || f[i] == "--goto" {
			target = f[i+1]
		}
	}
	return target
}

// fields splits a rule spec into words, keeping a double-quoted string (with
// backslash escapes, as iptables-save writes comments) as one word.
func fields(s string) []string {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
