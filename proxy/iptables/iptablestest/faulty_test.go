package iptablestest

import (
	"context"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

func TestFaulty(t *testing.T) {
	ctx := context.Background()
	f := New(iptables.IPv4)
	r := NewFaulty(f)
	two := []byte(lines("*filter", ":F - [0:0]", "COMMIT", "*nat", ":N - [0:0]", "COMMIT"))

	r.FailNext(2)
	r.FailCall(4)
	wantFail := []bool{true, true, false, true, false}
	for i, want := range wantFail {
		err := r.Restore(ctx, two)
		if (err != nil) != want {
			t.Fatalf("call %d: got %v, want failure %v", i+1, err, want)
		}
	}
	if r.Calls() != 5 || r.Failed() != 3 {
		t.Fatalf("calls %d failed %d", r.Calls(), r.Failed())
	}
	if f.Restores() != 2 {
		t.Fatalf("the fake saw %d restores, want 2", f.Restores())
	}

	g := New(iptables.IPv4)
	r = NewFaulty(g)
	r.Partial(true)
	r.FailNext(1)
	if err := r.Restore(ctx, two); err == nil {
		t.Fatal("partial failure succeeded")
	}
	if ok, _ := g.ChainExists(ctx, "filter", "F"); !ok {
		t.Error("a partial failure did not apply the first section")
	}
	if ok, _ := g.ChainExists(ctx, "nat", "N"); ok {
		t.Error("a partial failure applied the second section")
	}
	// The other methods reach the wrapped Restorer.
	if _, err := r.EnsureChain(ctx, "nat", "M"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := g.ChainExists(ctx, "nat", "M"); !ok {
		t.Error("EnsureChain did not reach the fake")
	}
}
