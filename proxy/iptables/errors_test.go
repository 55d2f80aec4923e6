package iptables

// These are pure unit tests: they run no command and touch no kernel state.
// The kernel tests are in kernel_test.go and run under unshare --net.

import (
	"strings"
	"testing"
)

func TestNewRestoreError(t *testing.T) {
	const payload = "*nat\n:KUBE-SVC-A - [0:0]\n-A KUBE-SVC-A -j KUBE-SEP-AA\n-A KUBE-SVC-A -j KUBE-SEP-A\nCOMMIT\n"
	cases := []struct {
		name     string
		output   string
		wantLine int
		wantRule string
	}{
		{"legacy short form", "iptables-restore: line 3 failed\n", 3, "-A KUBE-SVC-A -j KUBE-SEP-AA"},
		{"legacy long form",
			"iptables-restore v1.8.9 (legacy): Couldn't load target `KUBE-SEP-A':No such file or directory\n\nError occurred at line: 4\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n",
			4, "-A KUBE-SVC-A -j KUBE-SEP-A"},
		{"nft blames COMMIT for a missing chain",
			"iptables-nft-restore v1.8.9 (nf_tables): Chain 'KUBE-SEP-A' does not exist\nError occurred at line: 5\n",
			4, "-A KUBE-SVC-A -j KUBE-SEP-A"},
		{"nft kernel error", "iptables-nft-restore v1.8.9 (nf_tables): \nline 2: CHAIN_DEL failed (Device or resource busy): chain B\n", 2, ":KUBE-SVC-A - [0:0]"},
		{"no line number", "iptables-restore: unable to initialize table 'nat'\n", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newRestoreError("iptables-restore", 1, []byte(c.output), []byte(payload))
			if e.Line != c.wantLine || e.Rule != c.wantRule {
				t.Fatalf("got line %d %q, want %d %q", e.Line, e.Rule, c.wantLine, c.wantRule)
			}
			if strings.Contains(e.Error(), "Try `") || strings.Contains(e.Error(), "\n") {
				t.Errorf("message not tidied: %q", e.Error())
			}
			if c.wantRule != "" && !strings.Contains(e.Error(), c.wantRule) {
				t.Errorf("message %q does not name the rule", e.Error())
			}
		})
	}
}
