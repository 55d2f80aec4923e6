package iptablestest

import (
	"context"
	"slices"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

func TestDump(t *testing.T) {
	f := New(iptables.IPv4)
	if f.Dump() != "" {
		t.Fatalf("a new fake dumps %q", f.Dump())
	}
	restore(t, f, lines("*filter", ":ZED - [0:0]", ":ALPHA - [0:0]", "-A ZED -j ALPHA", "-A OUTPUT -j ZED", "-A INPUT -j ZED", "COMMIT",
		"*nat", ":POSTROUTING DROP [0:0]", "COMMIT",
		"*mangle", "COMMIT"))
	want := lines("*filter",
		":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
		":ALPHA - [0:0]", ":ZED - [0:0]",
		"-A INPUT -j ZED", "-A OUTPUT -j ZED", "-A ZED -j ALPHA",
		"COMMIT",
		"*nat",
		":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING DROP [0:0]",
		"COMMIT")
	if got := f.Dump(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	mangle, err := f.Save(context.Background(), iptables.TableMangle)
	if err != nil {
		t.Fatal(err)
	}
	if want := lines("*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
		":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", "COMMIT"); string(mangle) != want {
		t.Fatalf("Save(mangle) got:\n%s", mangle)
	}
	if got, want := f.Chains(iptables.TableFilter), []string{"INPUT", "FORWARD", "OUTPUT", "ALPHA", "ZED"}; !slices.Equal(got, want) {
		t.Fatalf("Chains: got %q, want %q", got, want)
	}
}

// A dump restored into an empty fake dumps the same, for both families.
func TestDumpRoundTrip(t *testing.T) {
	for _, fam := range []iptables.Family{iptables.IPv4, iptables.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			var p iptables.Payload
			syn := Synthetic{Family: fam, Services: 20, Endpoints: 3}
			syn.Write(&p)
			p.Chain(iptables.TableFilter, "QUOTED")
			p.Rule(iptables.TableFilter, "QUOTED", "-m", "comment", "--comment", `quote " and \ backslash`, "-j", "ACCEPT")
			payload, err := p.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			f := New(fam)
			restore(t, f, string(payload))
			if err := syn.Bootstrap(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			dump := f.Dump()
			g := New(fam)
			restore(t, g, dump)
			if g.Dump() != dump {
				t.Fatalf("round trip changed the dump:\n%s\nwas:\n%s", g.Dump(), dump)
			}
			// Restoring the same payload again is a no-op: it declares
			// every chain it fills.
			restore(t, f, string(payload))
			if f.Dump() != dump {
				t.Fatal("restoring the same payload twice changed the state")
			}
		})
	}
}
