package userspacee2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// portalChains are the userspace mode's chains and the built-in chain that
// jumps to each, by table.
var portalChains = []struct{ table, chain, from string }{
	{"nat", "KUBE-PORTALS-CONTAINER", "PREROUTING"},
	{"nat", "KUBE-PORTALS-HOST", "OUTPUT"},
	{"nat", "KUBE-NODEPORT-CONTAINER", "PREROUTING"},
	{"nat", "KUBE-NODEPORT-HOST", "OUTPUT"},
	{"filter", "KUBE-NODEPORT-NON-LOCAL", "INPUT"},
}

// listenerPort finds the listener port a portal rule sends traffic to
// (REDIRECT --to-ports, DNAT --to-destination ip:port) or accepts
// (--dport in KUBE-NODEPORT-NON-LOCAL).
var listenerPort = regexp.MustCompile(`(?:--to-ports |--to-destination [0-9.]+:)(\d+)|KUBE-NODEPORT-NON-LOCAL .*--dport (\d+)`)

// portals: on every node, the five portal chains exist and are jumped to
// from the built-in chains; the Services of the earlier scenarios have
// their rules; and every listener port the rules name comes from
// --proxy-port-range.
func (s *suite) portals(t *testing.T) {
	for _, n := range s.c.Nodes {
		// kproxy picks the iptables variant; the other one is empty. The
		// save commands quote comments holding "/" or ":".
		rules := s.c.Exec(t, n, "iptables-nft-save") + s.c.Exec(t, n, "iptables-legacy-save")
		rules = strings.ReplaceAll(rules, `"`, "")
		for _, pc := range portalChains {
			if !strings.Contains(rules, ":"+pc.chain+" ") || !regexp.MustCompile(`-A `+pc.from+` .*-j `+pc.chain+`\b`).MatchString(rules) {
				t.Errorf("%s: chain %s missing or not jumped to from %s", n.Name, pc.chain, pc.from)
			}
		}
		for _, comment := range []string{"default/cip:tcp", "default/np:tcp"} {
			if !strings.Contains(rules, "--comment "+comment+" ") {
				t.Errorf("%s: no portal rule for %s", n.Name, comment)
			}
		}
		ports := 0
		for _, line := range strings.Split(rules, "\n") {
			m := listenerPort.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ports++
			p, _ := strconv.Atoi(m[1] + m[2])
			if p < portBase || p >= portBase+portSize {
				t.Errorf("%s: listener port %d outside --proxy-port-range %s: %s", n.Name, p, portRange(), line)
			}
		}
		if ports == 0 {
			t.Errorf("%s: no portal rule names a listener port:\n%s", n.Name, rules)
		}
	}
}
