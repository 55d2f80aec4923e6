package faultse2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// counters matches the packet and byte counters of a chain line.
var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// tableRules returns one IPv4 table of node n, normalised.
func tableRules(t *testing.T, c *framework.Cluster, n *framework.Node, variant, table string) string {
	t.Helper()
	return normalizeRules(c.Exec(t, n, framework.IPTablesCmd(variant, "save"), "-t", table))
}

// normalizeRules makes iptables-save output of one table comparable across
// nodes and histories: comments dropped, counters zeroed, chain declarations
// sorted, and each chain's rules printed together with the chains in name
// order. The order of rules within a chain, the only order the kernel acts
// on, is kept.
func normalizeRules(save string) string {
	var decls []string
	rules := map[string][]string{}
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "#"), line == "COMMIT":
		case strings.HasPrefix(line, "*"):
			decls = append(decls, line)
		case strings.HasPrefix(line, ":"):
			decls = append(decls, counters.ReplaceAllString(line, "[0:0]"))
		case strings.HasPrefix(line, "-A "):
			chain := strings.Fields(line)[1]
			rules[chain] = append(rules[chain], line)
		default:
			decls = append(decls, line)
		}
	}
	slices.Sort(decls)
	chains := make([]string, 0, len(rules))
	for chain := range rules {
		chains = append(chains, chain)
	}
	slices.Sort(chains)
	out := decls
	for _, chain := range chains {
		out = append(out, rules[chain]...)
	}
	return strings.Join(out, "\n")
}

// waitRules polls node n's nat table until it equals want and returns how
// long that took. After timeout it returns false and the last rules read.
func waitRules(t *testing.T, c *framework.Cluster, n *framework.Node, variant, want string, timeout time.Duration) (time.Duration, string, bool) {
	t.Helper()
	start := time.Now()
	for {
		got := tableRules(t, c, n, variant, "nat")
		if got == want {
			return time.Since(start), got, true
		}
		if time.Since(start) > timeout {
			return time.Since(start), got, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settledRules waits until node n's nat table reads the same twice, half a
// second apart, and returns it: what a kproxy that just started wrote once
// its first syncs are done.
func settledRules(t *testing.T, c *framework.Cluster, n *framework.Node, variant string) string {
	t.Helper()
	prev := tableRules(t, c, n, variant, "nat")
	for range 20 {
		time.Sleep(500 * time.Millisecond)
		cur := tableRules(t, c, n, variant, "nat")
		if cur == prev {
			return cur
		}
		prev = cur
	}
	t.Fatalf("%s: the nat table kept changing for 10 s", n.Name)
	return ""
}

// ruleDiff lists the lines only one of two normalised tables holds.
func ruleDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order within a chain)\n" + got
	}
	return b.String()
}

// TestNormalizeRules runs without root: chain order and counters do not
// count, rule order within a chain does.
func TestNormalizeRules(t *testing.T) {
	const a = "# Generated\n*nat\n:PREROUTING ACCEPT [5:300]\n:KUBE-B - [0:0]\n:KUBE-A - [0:0]\n-A PREROUTING -j KUBE-A\n-A KUBE-B -j DNAT --to-destination 10.0.0.1:80\n-A KUBE-A -j KUBE-B\n-A KUBE-A -j RETURN\nCOMMIT\n"
	const sameOtherChainOrder = "*nat\n:KUBE-A - [0:0]\n:PREROUTING ACCEPT [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\n-A KUBE-A -j RETURN\n-A KUBE-B -j DNAT --to-destination 10.0.0.1:80\n-A PREROUTING -j KUBE-A\nCOMMIT\n"
	const rulesSwapped = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-B - [0:0]\n:KUBE-A - [0:0]\n-A PREROUTING -j KUBE-A\n-A KUBE-B -j DNAT --to-destination 10.0.0.1:80\n-A KUBE-A -j RETURN\n-A KUBE-A -j KUBE-B\nCOMMIT\n"
	const extraChain = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-B - [0:0]\n:KUBE-A - [0:0]\n:KUBE-C - [0:0]\n-A PREROUTING -j KUBE-A\n-A KUBE-B -j DNAT --to-destination 10.0.0.1:80\n-A KUBE-A -j KUBE-B\n-A KUBE-A -j RETURN\nCOMMIT\n"
	for _, tc := range []struct {
		name string
		b    string
		same bool
	}{
		{"chain order and counters", sameOtherChainOrder, true},
		{"rule order within a chain", rulesSwapped, false},
		{"a leftover chain", extraChain, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalizeRules(a) == normalizeRules(tc.b); got != tc.same {
				t.Errorf("equal = %v, want %v\n%s", got, tc.same, ruleDiff(normalizeRules(tc.b), normalizeRules(a)))
			}
		})
	}
}
