package iptablese2e

import (
	"strings"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
)

// kubeletFirewall is the chain kubelet creates in the IPv4 filter table,
// with one rule, jumped to from INPUT and OUTPUT. kproxy writes the same
// chain when localhost node ports are on (the default) and, like
// kube-proxy, never deletes it: it is kubelet's.
const kubeletFirewall = "KUBE-FIREWALL"

// kubeletFirewallRule is kubelet's rule in that chain.
var kubeletFirewallRule = []string{"!", "-s", "127.0.0.0/8", "-d", "127.0.0.0/8",
	"-m", "comment", "--comment", "block incoming localnet connections",
	"-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP"}

// addKubeletFirewall writes kubelet's chain in node n with variant v, as
// kubelet would have before kproxy starts.
func addKubeletFirewall(t *testing.T, c *framework.Cluster, n *framework.Node, v variant) {
	t.Helper()
	cmd := "iptables-" + string(v)
	c.Exec(t, n, cmd, "-t", "filter", "-N", kubeletFirewall)
	c.Exec(t, n, append([]string{cmd, "-t", "filter", "-A", kubeletFirewall}, kubeletFirewallRule...)...)
	for _, from := range []string{"INPUT", "OUTPUT"} {
		c.Exec(t, n, cmd, "-t", "filter", "-A", from, "-j", kubeletFirewall)
	}
}

// withoutKubeletFirewall drops kubelet's chain, its rule and the jumps to
// it from iptables-save output.
func withoutKubeletFirewall(save string) string {
	var out []string
	for _, line := range strings.Split(save, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == ":"+kubeletFirewall:
		case len(f) > 1 && f[0] == "-A" && f[1] == kubeletFirewall:
		case len(f) == 4 && f[0] == "-A" && f[2] == "-j" && f[3] == kubeletFirewall:
		default:
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
