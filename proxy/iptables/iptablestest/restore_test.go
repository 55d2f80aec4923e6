package iptablestest

// These are pure unit tests: they run no command and touch no kernel state.
// The kernel tests are in kernel_test.go and run under unshare --net.

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// base is the state most restore tests start from: PREROUTING jumps to A,
// A jumps to B, B returns.
var base = lines(
	"*nat",
	":A - [0:0]",
	":B - [0:0]",
	"-A PREROUTING -j A",
	"-A A -j B",
	"-A A -s 1.2.3.4/32 -j ACCEPT",
	"-A B -j RETURN",
	"COMMIT",
)

// The expectations follow what iptables-restore --noflush v1.8.9 does.
func TestRestoreNoflush(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		// want maps chains of the nat table to their rules after the
		// restore; chains not named are unchanged.
		want    map[string][]string
		gone    []string // chains that must not exist
		errLine int      // 0: the restore must succeed
		errText string
	}{
		{name: "declaring an existing user chain flushes it",
			payload: lines("*nat", ":A - [0:0]", "COMMIT"),
			want:    map[string][]string{"A": nil, "B": {"-A B -j RETURN"}, "PREROUTING": {"-A PREROUTING -j A"}}},
		{name: "declaring a built-in chain keeps its rules",
			payload: lines("*nat", ":PREROUTING ACCEPT [0:0]", "COMMIT"),
			want:    map[string][]string{"PREROUTING": {"-A PREROUTING -j A"}}},
		{name: "undeclared existing chains keep their rules",
			payload: lines("*nat", ":C - [0:0]", "-A C -j B", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j B", "-A A -s 1.2.3.4/32 -j ACCEPT"}, "C": {"-A C -j B"}}},
		{name: "appending to an undeclared missing chain fails",
			payload: lines("*nat", ":C - [0:0]", "-A C -j RETURN", "-A D -j RETURN", "COMMIT"),
			gone:    []string{"C", "D"}, errLine: 4, errText: `chain "D" does not exist`},
		{name: "jumping to a missing chain fails",
			payload: lines("*nat", ":A - [0:0]", "-A A -j NOPE", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j B", "-A A -s 1.2.3.4/32 -j ACCEPT"}},
			errLine: 3, errText: `chain "NOPE" does not exist`},
		{name: "jumping to a chain declared later fails",
			payload: lines("*nat", ":C - [0:0]", "-A C -j D", ":D - [0:0]", "COMMIT"),
			gone:    []string{"C", "D"}, errLine: 3},
		{name: "deleting a chain still referenced fails",
			payload: lines("*nat", ":B - [0:0]", "-X B", "COMMIT"),
			want:    map[string][]string{"B": {"-A B -j RETURN"}},
			errLine: 3, errText: "in use"},
		{name: "deleting a chain with rules fails",
			payload: lines("*nat", "-F A", "-X B", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j B", "-A A -s 1.2.3.4/32 -j ACCEPT"}},
			errLine: 3, errText: "not empty"},
		{name: "flush referrer, declare and delete in one section",
			payload: lines("*nat", ":A - [0:0]", ":B - [0:0]", "-A A -j ACCEPT", "-X B", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j ACCEPT"}}, gone: []string{"B"}},
		{name: "re-adding a reference before the delete fails",
			payload: lines("*nat", ":A - [0:0]", ":B - [0:0]", "-A A -j B", "-X B", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j B", "-A A -s 1.2.3.4/32 -j ACCEPT"}},
			errLine: 5, errText: "in use"},
		{name: "deleting a missing chain fails",
			payload: lines("*nat", "-X NOPE", "COMMIT"), errLine: 2},
		{name: "deleting a built-in chain fails",
			payload: lines("*nat", "-X PREROUTING", "COMMIT"), errLine: 2},
		{name: "delete then re-create a chain",
			payload: lines("*nat", ":C - [0:0]", "-X C", ":C - [0:0]", "-A C -j RETURN", "COMMIT"),
			want:    map[string][]string{"C": {"-A C -j RETURN"}}},
		{name: "-N of an existing chain fails",
			payload: lines("*nat", "-N A", "COMMIT"), errLine: 2, errText: "already exists"},
		{name: "-N creates",
			payload: lines("*nat", "-N C", "-A C -j A", "COMMIT"),
			want:    map[string][]string{"C": {"-A C -j A"}}},
		{name: "-I at positions",
			payload: lines("*nat", "-I B -j A", "-I B 3 -d 2.2.2.2 -j A", "-I B 2 -s 1.1.1.1 -j A", "COMMIT"),
			want:    map[string][]string{"B": {"-A B -j A", "-A B -s 1.1.1.1/32 -j A", "-A B -j RETURN", "-A B -d 2.2.2.2/32 -j A"}}},
		{name: "-I past the end fails",
			payload: lines("*nat", "-I B 3 -j A", "COMMIT"), errLine: 2, errText: "too big"},
		{name: "-D by spec matches the canonical form",
			payload: lines("*nat", "-D A -s 1.2.3.4 -j ACCEPT", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j B"}}},
		{name: "-D of a missing rule fails",
			payload: lines("*nat", "-D A -s 9.9.9.9 -j ACCEPT", "COMMIT"), errLine: 2, errText: "bad rule"},
		{name: "-D by number",
			payload: lines("*nat", "-D A 1", "-F B", "-X B", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -s 1.2.3.4/32 -j ACCEPT"}}, gone: []string{"B"}},
		{name: "-F of every chain",
			payload: lines("*nat", "-F", "COMMIT"),
			want:    map[string][]string{"A": nil, "B": nil, "PREROUTING": nil}},
		{name: "-X of every user chain",
			payload: lines("*nat", "-F", "-X", "COMMIT"), gone: []string{"A", "B"}},
		{name: "policy on a user chain fails",
			payload: lines("*nat", ":C DROP [0:0]", "COMMIT"), errLine: 2, gone: []string{"C"}},
		{name: "missing COMMIT applies nothing",
			payload: lines("*nat", ":A - [0:0]"),
			want:    map[string][]string{"A": {"-A A -j B", "-A A -s 1.2.3.4/32 -j ACCEPT"}},
			errLine: 3, errText: "COMMIT expected"},
		{name: "a new table before COMMIT fails",
			payload: lines("*nat", ":A - [0:0]", "*filter", "COMMIT"),
			want:    map[string][]string{"A": {"-A A -j B", "-A A -s 1.2.3.4/32 -j ACCEPT"}},
			errLine: 3},
		{name: "unknown table",
			payload: lines("*bogus", "COMMIT"), errLine: 1},
		{name: "rule outside a table",
			payload: lines("-A A -j ACCEPT"), errLine: 1, errText: "no table"},
		{name: "comments and blank lines are skipped",
			payload: lines("# Generated by test", "", "*nat", "  # indented comment", ":A - [0:0]", "COMMIT", "# Completed"),
			want:    map[string][]string{"A": nil}},
		{name: "counters in declarations are accepted",
			payload: lines("*nat", ":PREROUTING ACCEPT [12:345]", ":A - [0:0]", "COMMIT"),
			want:    map[string][]string{"A": nil, "PREROUTING": {"-A PREROUTING -j A"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := New(iptables.IPv4)
			restore(t, f, base)
			before := f.Dump()
			err := f.Restore(context.Background(), []byte(c.payload))
			if c.errLine == 0 {
				if err != nil {
					t.Fatalf("restore failed: %v", err)
				}
			} else {
				e := restoreErr(t, f, c.payload)
				if e.Line != c.errLine || !strings.Contains(e.Output, c.errText) {
					t.Fatalf("error %v: want line %d and %q", e, c.errLine, c.errText)
				}
				if f.Dump() != before {
					t.Fatalf("a failed restore changed the state:\n%s\nwas:\n%s", f.Dump(), before)
				}
			}
			for chain, want := range c.want {
				if got := specs(f, "nat", chain); !slices.Equal(got, want) {
					t.Errorf("chain %s: got %q, want %q", chain, got, want)
				}
			}
			for _, chain := range c.gone {
				if ok, _ := f.ChainExists(context.Background(), "nat", chain); ok {
					t.Errorf("chain %s exists", chain)
				}
			}
		})
	}
}

func TestRestoreCommitsEachTable(t *testing.T) {
	f := New(iptables.IPv4)
	e := restoreErr(t, f, lines(
		"*filter", ":F - [0:0]", "-A F -j ACCEPT", "COMMIT",
		"*nat", ":N - [0:0]", "-A N -j MISSING", "COMMIT"))
	if e.Line != 7 || e.Rule != "-A N -j MISSING" {
		t.Fatalf("error names line %d %q", e.Line, e.Rule)
	}
	if got := specs(f, "filter", "F"); !slices.Equal(got, []string{"-A F -j ACCEPT"}) {
		t.Errorf("the committed filter section was lost: %q", got)
	}
	if ok, _ := f.ChainExists(context.Background(), "nat", "N"); ok {
		t.Errorf("the failed nat section left chain N")
	}
}

func TestRestoreReferences(t *testing.T) {
	f := New(iptables.IPv4)
	restore(t, f, base)
	restore(t, f, lines("*nat", ":C - [0:0]", "-A C -j B", "-A C -j B", "COMMIT"))
	if got := f.References("nat", "B"); got != 3 {
		t.Fatalf("B has %d references, want 3", got)
	}
	restoreErr(t, f, lines("*nat", ":C - [0:0]", "-A C -j NOPE", "COMMIT"))
	if got := f.References("nat", "B"); got != 3 {
		t.Fatalf("after a failed flush B has %d references, want 3", got)
	}
	restore(t, f, lines("*nat", ":C - [0:0]", ":A - [0:0]", ":B - [0:0]", "-X B", "COMMIT"))
	if got := f.References("nat", "A"); got != 1 {
		t.Fatalf("A has %d references, want 1", got)
	}
}

func TestRestoreSets(t *testing.T) {
	f := New(iptables.IPv4)
	f.UseIPSets(IPSetMap{"KUBE-CLUSTER-IP": {Type: "hash:ip,port"}})
	restore(t, f, lines("*nat", ":C - [0:0]", "-A C -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN", "COMMIT"))
	e := restoreErr(t, f, lines("*nat", ":C - [0:0]", "-A C -m set --match-set NOPE dst -j RETURN", "COMMIT"))
	if !strings.Contains(e.Output, "set NOPE doesn't exist") {
		t.Fatalf("got %v", e)
	}
}

func TestRestoreCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := New(iptables.IPv4)
	if err := f.Restore(ctx, []byte(base)); err == nil {
		t.Fatal("restore with a cancelled context succeeded")
	}
	if f.Dump() != "" {
		t.Fatal("a cancelled restore changed the state")
	}
}
