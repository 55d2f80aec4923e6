package iptablesmode

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// foreignRules are rules of other components that kproxy must never touch: a
// firewall chain, kubelet's chains, a CNI plugin's masquerading that reuses
// KUBE-MARK-MASQ.
const foreignRules = `*filter
:MY-FW - [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j MY-FW
-A INPUT -j KUBE-FIREWALL
-A MY-FW -s 192.0.2.0/24 -j DROP
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
COMMIT
*nat
:KUBE-MARK-MASQ - [0:0]
:CNI-MASQ - [0:0]
-A POSTROUTING -j CNI-MASQ
-A CNI-MASQ -d 10.0.0.0/16 -j RETURN
-A CNI-MASQ -j KUBE-MARK-MASQ
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
COMMIT
*mangle
:KUBE-KUBELET-CANARY - [0:0]
COMMIT
`

// leftoverRules are what an older kube-proxy (or a crashed kproxy) left behind:
// service and endpoint chains no service uses any more, a KUBE-XLB- chain, and
// jumps from built-in chains that are duplicated or lack their comment.
const leftoverRules = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]
:KUBE-XLB-AAAAAAAAAAAAAAAA - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 172.30.9.9/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BBBBBBBBBBBBBBBB
-A KUBE-XLB-AAAAAAAAAAAAAAAA -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m tcp -j DNAT --to-destination 10.0.9.9:80
COMMIT
`

// restoreText applies text to fake and fails the test on error.
func restoreText(t *testing.T, fake *iptablestest.Fake, text string) {
	t.Helper()
	if err := fake.Restore(context.Background(), []byte(text)); err != nil {
		t.Fatalf("restore: %v", err)
	}
}

// TestTakeOverAndCleanup starts kproxy on a node holding other components' rules
// and an older proxy's leftovers: the first sync must remove the leftovers, keep
// the foreign rules, and fix the jumps; Cleanup must then leave only the foreign
// rules.
func TestTakeOverAndCleanup(t *testing.T) {
	family := v1.IPv4Protocol
	s := packetflow.Standard(family, false)

	foreign := newFake(family)
	restoreText(t, foreign, foreignRules)
	foreignOnly := foreign.Dump()
	mustSync(t, newTestBackend(t, family, foreign, s.Settings), s.Snapshot, full)
	want := foreign.Dump()

	fake := newFake(family)
	restoreText(t, fake, foreignRules)
	restoreText(t, fake, leftoverRules)
	be := newTestBackend(t, family, fake, s.Settings)
	mustSync(t, be, s.Snapshot, full)
	if got := fake.Dump(); got != want {
		t.Errorf("first sync over leftovers:\n%s", diff(got, want))
	}

	if err := be.Cleanup(context.Background()); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got := fake.Dump(); got != foreignOnly {
		t.Errorf("after Cleanup:\n%s", diff(got, foreignOnly))
	}
	// A second Cleanup finds nothing to do.
	if err := be.Cleanup(context.Background()); err != nil {
		t.Fatalf("second Cleanup: %v", err)
	}
}

// TestCleanupWithoutState checks that a fresh process (kproxy --cleanup) removes
// what another one programmed.
func TestCleanupWithoutState(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		t.Run(string(family), func(t *testing.T) {
			s := packetflow.Standard(family, false)
			fake := newFake(family)
			mustSync(t, newTestBackend(t, family, fake, s.Settings), s.Snapshot, full)
			b, err := New(Options{Family: family, IPTables: fake})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Cleanup(context.Background()); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}
			if got := fake.Dump(); got != "" {
				t.Errorf("rules left after Cleanup:\n%s", got)
			}
		})
	}
}
