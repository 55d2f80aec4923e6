package iptablestest

import (
	"context"
	"slices"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

func TestBootstrapHelpers(t *testing.T) {
	ctx := context.Background()
	f := New(iptables.IPv4)
	nat := iptables.TableNAT
	check := func(name string, got bool, err error, want bool) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s: got %v, %v; want %v", name, got, err, want)
		}
	}
	existed, err := f.EnsureChain(ctx, nat, "KUBE-SERVICES")
	check("first EnsureChain", existed, err, false)
	existed, err = f.EnsureChain(ctx, nat, "KUBE-SERVICES")
	check("second EnsureChain", existed, err, true)

	jump := []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}
	existed, err = f.EnsureRule(ctx, iptables.Append, nat, "PREROUTING", jump...)
	check("first EnsureRule", existed, err, false)
	// The same rule written differently is the same rule.
	existed, err = f.EnsureRule(ctx, iptables.Prepend, nat, "PREROUTING", "--jump", "KUBE-SERVICES", "-m", "comment", "--comment", "kubernetes service portals")
	check("second EnsureRule", existed, err, true)
	if _, err := f.EnsureRule(ctx, iptables.Prepend, nat, "PREROUTING", "-s", "10.0.0.0/8", "-j", "RETURN"); err != nil {
		t.Fatal(err)
	}
	want := []string{"-A PREROUTING -s 10.0.0.0/8 -j RETURN", `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`}
	if got := specs(f, nat, "PREROUTING"); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}

	if _, err := f.EnsureRule(ctx, iptables.Append, nat, "NOPE", "-j", "RETURN"); err == nil {
		t.Fatal("EnsureRule in a missing chain succeeded")
	}
	if _, err := f.EnsureRule(ctx, iptables.Append, nat, "PREROUTING", "-j", "NOPE"); err == nil {
		t.Fatal("EnsureRule jumping to a missing chain succeeded")
	}
	if err := f.DeleteChain(ctx, nat, "KUBE-SERVICES"); err == nil {
		t.Fatal("deleting a referenced chain succeeded")
	}
	if err := f.DeleteRule(ctx, nat, "PREROUTING", jump...); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteRule(ctx, nat, "PREROUTING", jump...); err != nil {
		t.Fatalf("deleting a missing rule: %v", err)
	}
	if err := f.DeleteRule(ctx, nat, "NOPE", jump...); err != nil {
		t.Fatalf("deleting from a missing chain: %v", err)
	}
	if err := f.DeleteChain(ctx, nat, "KUBE-SERVICES"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteChain(ctx, nat, "KUBE-SERVICES"); err != nil {
		t.Fatalf("deleting a missing chain: %v", err)
	}
	ok, err := f.ChainExists(ctx, nat, "KUBE-SERVICES")
	check("ChainExists", ok, err, false)
	if _, err := f.EnsureChain(ctx, "bogus", "X"); err == nil {
		t.Fatal("EnsureChain in an unknown table succeeded")
	}
}
