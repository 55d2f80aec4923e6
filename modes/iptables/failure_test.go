package iptablesmode

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestFailedRestore checks that a failed iptables-restore is reported, leaves the
// kernel as it was (or, when an earlier table section got through, in a state the
// next sync repairs), and that the next sync, full as the caller then asks,
// repairs everything.
func TestFailedRestore(t *testing.T) {
	for _, tc := range []struct {
		name          string
		partialApply  bool // the first table section is applied before the failure
		callerIsFull  bool // the caller passes Full after the failure, as proxy's runner does
		wantUnchanged bool
	}{
		{name: "nothing applied", wantUnchanged: true, callerIsFull: true},
		{name: "first section applied", partialApply: true, callerIsFull: true},
		{name: "caller forgets Full", wantUnchanged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			family := v1.IPv4Protocol
			s := packetflow.Standard(family, false)
			fake := newFake(family)
			faulty := iptablestest.NewFaulty(fake)
			faulty.Partial(tc.partialApply)
			be := newTestBackend(t, family, faulty, s.Settings)
			mustSync(t, be, s.Snapshot, full)
			before := fake.Dump()

			// ns2/svc2 loses its service, ns1/svc1 an endpoint: both tables change.
			s.Builder.DeleteService("ns2", "svc2")
			s.Builder.Slice(packetflow.NewSlice("ns1", "svc1", "svc1-1", family, "p", v1.ProtocolTCP, 8080,
				packetflow.Endpoint{IP: "10.0.2.1", Node: packetflow.OtherNode}))
			snap, changes := s.Builder.Snapshot(family)
			faulty.FailNext(1)
			if err := be.Sync(context.Background(), snap, changes); err == nil {
				t.Fatal("Sync succeeded with a failing iptables-restore")
			}
			if tc.wantUnchanged && fake.Dump() != before {
				t.Errorf("a failed restore changed the rules:\n%s", diff(fake.Dump(), before))
			}
			next := proxy.Changes{Full: tc.callerIsFull}
			mustSync(t, be, snap, next)
			if got, want := fake.Dump(), freshDump(t, family, s.Settings, snap); got != want {
				t.Errorf("the sync after a failure did not repair the rules:\n%s", diff(got, want))
			}
		})
	}
}

// TestCanaryForcesFullSync checks that when someone flushes the tables, CheckCanary
// notices and the next sync, even one asked as partial, restores everything.
func TestCanaryForcesFullSync(t *testing.T) {
	family := v1.IPv4Protocol
	s := packetflow.Standard(family, false)
	fake := newFake(family)
	be := newTestBackend(t, family, fake, s.Settings)
	mustSync(t, be, s.Snapshot, full)
	want := fake.Dump()
	ctx := context.Background()
	if ok, err := be.CheckCanary(ctx); err != nil || !ok {
		t.Fatalf("CheckCanary after Setup = %v, %v; want true", ok, err)
	}

	// What "iptables -F; iptables -X" in every table does.
	flushAll(t, fake)
	if ok, err := be.CheckCanary(ctx); err != nil || ok {
		t.Fatalf("CheckCanary after a flush = %v, %v; want false", ok, err)
	}
	mustSync(t, be, s.Snapshot, proxy.Changes{})
	if got := fake.Dump(); got != want {
		t.Errorf("rules after a flush and a sync differ from the first sync:\n%s", diff(got, want))
	}
}

// flushAll empties every table of the fake, as "iptables -F && iptables -X" would.
func flushAll(t *testing.T, fake *iptablestest.Fake) {
	t.Helper()
	var b lineBuf
	for _, table := range []string{"filter", "nat", "mangle"} {
		b.WriteString("*" + table + "\n")
		tbl := tableOf(table)
		for _, c := range fake.Chains(tbl) {
			if !isBuiltin(c) {
				b.chainLine(c)
			}
		}
		for _, c := range fake.Chains(tbl) {
			if isBuiltin(c) {
				for _, r := range fake.Rules(tbl, c) {
					b.op("-D", c, r.Spec)
				}
			} else {
				b.op("-X", c, "")
			}
		}
		b.WriteString("COMMIT\n")
	}
	if err := fake.Restore(context.Background(), b.Bytes()); err != nil {
		t.Fatalf("flushing: %v\n%s", err, b.String())
	}
}
