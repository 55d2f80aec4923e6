package iptablese2e

import (
	"strings"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
)

// variant is an iptables kernel API: "nft" or "legacy".
type variant string

const (
	variantNFT    variant = "nft"
	variantLegacy variant = "legacy"
)

// variants are both, in the order saveAll reads them.
var variants = []variant{variantNFT, variantLegacy}

// save returns the save command of family ("iptables" or "ip6tables").
func (v variant) save(family string) string {
	return family + "-" + string(v) + "-save"
}

// other returns the variant that is not v.
func (v variant) other() variant {
	if v == variantNFT {
		return variantLegacy
	}
	return variantNFT
}

// families are the two iptables commands kproxy drives.
var families = []string{"iptables", "ip6tables"}

// hintChain is the chain kubelet creates in the mangle table of the variant
// the node uses; kproxy's variant detection looks for it.
const hintChain = "KUBE-IPTABLES-HINT"

// markLegacy makes node n a legacy-iptables node the way kubelet would: the
// hint chain in the legacy mangle table.
func markLegacy(t *testing.T, c *framework.Cluster, n *framework.Node) {
	t.Helper()
	c.Exec(t, n, "iptables-legacy", "-t", "mangle", "-N", hintChain)
}

// saveAll returns the output of every save command (both variants, both
// families) in node n, by command name.
func saveAll(t *testing.T, c *framework.Cluster, n *framework.Node) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range variants {
		for _, f := range families {
			cmd := v.save(f)
			out[cmd] = c.Exec(t, n, cmd)
		}
	}
	return out
}

// rulesInVariant checks, on every node, that kproxy's chains are in the
// variant the node uses, for both families, and nowhere in the other.
func (s *suite) rulesInVariant(t *testing.T) {
	for _, n := range s.c.Nodes {
		for _, f := range families {
			mine := s.c.Exec(t, n, s.variant.save(f))
			// Every Service is IPv4: ip6tables holds the fixed chains only.
			want := []string{":KUBE-SERVICES", "-A KUBE-POSTROUTING"}
			if f == "iptables" {
				want = append(want, "-A KUBE-SVC-")
			}
			for _, w := range want {
				if !strings.Contains(mine, w) {
					t.Errorf("%s: %s lacks %q:\n%s", n.Name, s.variant.save(f), w, mine)
				}
			}
			other := s.c.Exec(t, n, s.variant.other().save(f))
			if leaked := kubeChains(other); len(leaked) > 0 {
				t.Errorf("%s: %s holds kproxy chains %v, want none in the %s variant", n.Name, s.variant.other().save(f), leaked, s.variant.other())
			}
		}
	}
}

// kubeChains returns the KUBE- chains declared in save output, except the
// variant hint kubelet owns.
func kubeChains(save string) []string {
	var out []string
	for _, line := range strings.Split(save, "\n") {
		name, ok := strings.CutPrefix(line, ":KUBE-")
		if !ok {
			continue
		}
		if chain := "KUBE-" + strings.Fields(name)[0]; chain != hintChain {
			out = append(out, chain)
		}
	}
	return out
}
