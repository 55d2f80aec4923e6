package iptablesmode

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestFullPayloadDeclaresBeforeUse checks the order of full payloads (see
// order.go): iptables-restore, legacy as nft, refuses a line that names a chain
// not declared yet, so in each table every chain a rule is in or jumps to must be
// declared (once) on an earlier line. The big cluster spans several declaration
// chunks; the standard scenario has every kind of chain.
func TestFullPayloadDeclaresBeforeUse(t *testing.T) {
	big := newBigCluster(1000, 3)
	std := packetflow.Standard(v1.IPv4Protocol, false)
	for _, tc := range []struct {
		name     string
		settings packetflow.Settings
		snap     *proxy.Snapshot
	}{
		{"standard scenario", std.Settings, std.Snapshot},
		{"1,000 services", bigSettings, big.snap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{Restorer: newFake(v1.IPv4Protocol)}
			mustSync(t, newTestBackend(t, v1.IPv4Protocol, rec, tc.settings), tc.snap, full)
			checkDeclaredBeforeUse(t, rec.last)
		})
	}
}

// checkDeclaredBeforeUse fails for a KUBE- chain used before its declaration, or
// declared twice in one table.
func checkDeclaredBeforeUse(t *testing.T, payload string) {
	t.Helper()
	var declared map[string]bool
	for n, line := range strings.Split(payload, "\n") {
		f := fields(line)
		switch {
		case len(f) == 0:
		case strings.HasPrefix(line, "*"):
			declared = map[string]bool{}
		case strings.HasPrefix(line, ":"):
			name := strings.TrimPrefix(f[0], ":")
			if declared[name] {
				t.Errorf("line %d: %s declared twice", n+1, name)
			}
			declared[name] = true
		case f[0] == "-A" || f[0] == "-I" || f[0] == "-D" || f[0] == "-X":
			used := []string{f[1]}
			if target := ruleTarget(line); target != "" {
				used = append(used, target)
			}
			for _, c := range used {
				if strings.HasPrefix(c, "KUBE-") && !declared[c] {
					t.Errorf("line %d names %s before its declaration: %s", n+1, c, line)
				}
			}
		}
	}
}
