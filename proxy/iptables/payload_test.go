package iptables

import (
	"strings"
	"testing"
)

func TestPayload(t *testing.T) {
	var p Payload
	if !p.Empty() {
		t.Fatal("zero Payload is not empty")
	}
	p.Rule(TableNAT, "KUBE-SVC-A", "-m", "comment", "--comment", "ns/a:p cluster IP", "-j", "KUBE-SEP-A")
	p.Chain(TableNAT, "KUBE-SVC-A")
	p.DeleteChain(TableNAT, "KUBE-SVC-OLD")
	p.Chain(TableFilter, "KUBE-SERVICES")
	p.Rule(TableFilter, "KUBE-SERVICES", "-m", "comment", "--comment", `say "hi" \ bye`, "-j", "REJECT")
	p.Rule(TableNAT, "KUBE-SEP-A", "-m", "comment", "--comment", "", "-j", "RETURN")
	got, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"*filter",
		":KUBE-SERVICES - [0:0]",
		`-A KUBE-SERVICES -m comment --comment "say \"hi\" \\ bye" -j REJECT`,
		"COMMIT",
		"*nat",
		":KUBE-SVC-A - [0:0]",
		":KUBE-SVC-OLD - [0:0]",
		`-A KUBE-SVC-A -m comment --comment "ns/a:p cluster IP" -j KUBE-SEP-A`,
		`-A KUBE-SEP-A -m comment --comment "" -j RETURN`,
		"-X KUBE-SVC-OLD",
		"COMMIT",
		"",
	}, "\n")
	if string(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if c, r := p.Counts(TableNAT); c != 1 || r != 2 {
		t.Errorf("nat counts: %d chains %d rules", c, r)
	}
	p.Reset()
	if !p.Empty() || p.String() != "" {
		t.Fatalf("after Reset: %q", p.String())
	}
}

func TestPayloadKeepsFirstError(t *testing.T) {
	cases := []struct {
		name  string
		build func(p *Payload)
		want  string
	}{
		{"unknown table", func(p *Payload) { p.Chain("bogus", "X") }, `unknown table "bogus"`},
		{"long chain name", func(p *Payload) { p.Chain(TableNAT, strings.Repeat("X", 29)) }, "longer than 28"},
		{"empty chain name", func(p *Payload) { p.Rule(TableNAT, "", "-j", "ACCEPT") }, "empty chain name"},
		{"space in chain name", func(p *Payload) { p.DeleteChain(TableNAT, "A B") }, "holds character"},
		{"flag-like chain name", func(p *Payload) { p.Chain(TableNAT, "-A") }, "starts with"},
		{"line break in an argument", func(p *Payload) {
			p.Rule(TableNAT, "A", "-m", "comment", "--comment", "evil\n-A INPUT -j DROP", "-j", "ACCEPT")
		}, "line break"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Payload
			p.Chain(TableNAT, "GOOD")
			c.build(&p)
			p.Chain("alsobogus", "Y") // a later error does not replace the first
			b, err := p.Bytes()
			if err == nil || !strings.Contains(err.Error(), c.want) || b != nil {
				t.Fatalf("got %q, %v; want an error with %q", b, err, c.want)
			}
			p.Reset()
			if p.Err() != nil {
				t.Fatal("Reset kept the error")
			}
		})
	}
}

// BenchmarkPayloadRule measures writing one typical service rule.
func BenchmarkPayloadRule(b *testing.B) {
	var p Payload
	b.ReportAllocs()
	for b.Loop() {
		p.Rule(TableNAT, "KUBE-SERVICES", "-d", "10.96.0.10/32", "-p", "tcp", "-m", "comment", "--comment",
			"ns/svc:http cluster IP", "-m", "tcp", "--dport", "80", "-j", "KUBE-SVC-ABCDEFGHIJKLMNOP")
		if len(p.sections[1].rules) > 1<<24 {
			p.Reset()
		}
	}
}
