package iptablese2e

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// cleanup stops kproxy on every node and runs `kproxy --cleanup` there
// (twice: the second run must be harmless): the rules of both variants and
// both families must be what they were before kproxy started (compared
// after normalizeSave). One exception, as in kube-proxy: kubelet's
// KUBE-FIREWALL chain, which kproxy also writes, stays. On node-1, where
// kubelet's chain existed before, that changes nothing; on the bare node-2
// it is the one thing left, and logged.
func (s *suite) cleanup(t *testing.T) {
	bin := framework.Binary(t, framework.BinKProxy)
	for i, n := range s.c.Nodes {
		s.kps[i].Stop(t, 5*time.Second)
		for run := 1; run <= 2; run++ {
			s.c.Exec(t, n, bin, "--cleanup")
		}
		after := saveAll(t, s.c, n)
		for _, cmd := range slices.Sorted(maps.Keys(after)) {
			before, got := normalizeSave(s.before[n.Name][cmd]), normalizeSave(after[cmd])
			if !strings.Contains(before, ":"+kubeletFirewall+" ") {
				if kept := normalizeSave(withoutKubeletFirewall(after[cmd])); kept != got {
					t.Logf("%s: %s: kubelet's %s chain stays after --cleanup, as with kube-proxy", n.Name, cmd, kubeletFirewall)
					got = kept
				}
			}
			if got != before {
				t.Errorf("%s: %s after --cleanup differs from before kproxy started:\n%s", n.Name, cmd, lineDiff(before, got))
			}
		}
	}
}

// lineDiff lists the lines only in a ("-") and only in b ("+").
func lineDiff(a, b string) string {
	in := func(text string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(text, "\n") {
			m[l]++
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if mb[l] == 0 {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if ma[l] == 0 {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
