package iptablesmode

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// newFake returns an empty fake iptables of family.
func newFake(family v1.IPFamily) *iptablestest.Fake {
	return iptablestest.New(familyOf(family))
}

// newTestBackend returns a set-up backend over ipt configured as the scenario
// settings say.
func newTestBackend(t testing.TB, family v1.IPFamily, ipt iptables.Restorer, s packetflow.Settings, opts ...func(*Options)) *Backend {
	t.Helper()
	o := Options{Family: family, IPTables: ipt, MasqueradeAll: s.MasqueradeAll}
	if s.ClusterCIDR.IsValid() {
		o.ClusterCIDRs = []netip.Prefix{s.ClusterCIDR}
	}
	for _, f := range opts {
		f(&o)
	}
	b, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Setup(context.Background()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return b
}

// mustSync syncs and fails the test on error.
func mustSync(t testing.TB, b *Backend, snap *proxy.Snapshot, changes proxy.Changes) {
	t.Helper()
	if err := b.Sync(context.Background(), snap, changes); err != nil {
		t.Fatalf("Sync(full=%v): %v", changes.Full, err)
	}
}

// full is the Changes of a full sync.
var full = proxy.Changes{Full: true}

// traceCase runs one packet-flow case through the fake and returns its outcomes in
// packetflow form.
func traceCase(t *testing.T, tr *iptablestest.Tracer, c packetflow.Case) []packetflow.Outcome {
	t.Helper()
	outs, err := tr.Trace(iptablestest.Packet{
		Source: c.Source, SourcePort: 40000, Protocol: strings.ToLower(string(c.Protocol)),
		Dest: c.Dest, DestPort: c.Port, Local: c.Local,
	})
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	var got []packetflow.Outcome
	for _, o := range outs {
		switch o.Verdict {
		case iptablestest.DNAT:
			got = append(got, packetflow.Outcome{Endpoint: o.To, Masquerade: o.Masquerade})
		case iptablestest.Reject:
			got = append(got, packetflow.Outcome{Verdict: packetflow.Rejected})
		case iptablestest.Drop:
			got = append(got, packetflow.Outcome{Verdict: packetflow.Dropped})
		default:
			got = append(got, packetflow.Outcome{Verdict: packetflow.Verdict(o.String())})
		}
	}
	return packetflow.SortOutcomes(got)
}

// nsName is a service's namespace and name.
type nsName = types.NamespacedName

// nsn builds a nsName.
func nsn(ns, name string) nsName { return nsName{Namespace: ns, Name: name} }

// diff shows the lines only one of two dumps holds.
func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)\ngot:\n" + got + "\nwant:\n" + want
	}
	return b.String()
}

// tableOf converts a table name.
func tableOf(name string) iptables.Table { return iptables.Table(name) }

// netipPrefix parses a prefix.
func netipPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
