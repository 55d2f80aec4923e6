package ipvsmode_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/moby/ipvs"
	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// foreignVS adds a virtual server kproxy does not program.
func foreignVS(t *testing.T, k *kernel, addr string, port uint16) {
	t.Helper()
	a := ip(addr)
	svc := &ipvs.Service{Address: a.AsSlice(), Protocol: 6, Port: port, SchedName: "wlc", AddressFamily: 2, Netmask: 0xffffffff}
	if a.Is6() {
		svc.AddressFamily, svc.Netmask = 10, 128
	}
	if err := k.ipvs.NewService(svc); err != nil {
		t.Fatal(err)
	}
}

// TestCleanup: a new process removes everything a previous one programmed, but the
// virtual servers in excluded ranges and those of the other family.
func TestCleanup(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	k := newKernel(t, v1.IPv4Protocol, s.NodeIPs...)
	exclude := func(o *ipvsmode.Options) {
		withScenario(s)(o)
		o.ExcludeCIDRs = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("fd00::/8")}
	}
	foreignVS(t, k, "10.96.0.1", 443)
	foreignVS(t, k, "fd00::1", 443)
	mustSync(t, newBackend(t, k, exclude), s.Snapshot, full)
	if !strings.Contains(k.ipvs.Dump(), "10.96.0.1:443 wlc") {
		t.Fatalf("a sync deleted an excluded virtual server:\n%s", k.ipvs.Dump())
	}
	if err := newBackend(t, k, exclude).Cleanup(context.Background()); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got := compact(k.ipvs.Dump()); got != "TCP 10.96.0.1:443 wlc ->\nTCP [fd00::1]:443 wlc ->" {
		t.Errorf("virtual servers left:\n%s", got)
	}
	if k.nl.HasLink(ipvsmode.DummyDevice) {
		t.Error("kube-ipvs0 is left")
	}
	if sets := k.sets.Sets(); len(sets) != 0 {
		t.Errorf("ipsets left: %v", sets)
	}
	if d := k.ipt.Dump(); d != "" {
		t.Errorf("iptables rules left:\n%s", d)
	}
	// Cleaning a clean node is fine.
	if err := newBackend(t, k, nil).Cleanup(context.Background()); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
}

// TestCleanupLeavesSharedChain: KUBE-MARK-MASQ still used by another mode's chain
// is left for that mode's cleanup; the rest goes.
func TestCleanupLeavesSharedChain(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	k := newKernel(t, v1.IPv4Protocol, s.NodeIPs...)
	b := newBackend(t, k, withScenario(s))
	mustSync(t, b, s.Snapshot, full)
	foreign := "*nat\n:KUBE-SVC-FOREIGN - [0:0]\n-A KUBE-SVC-FOREIGN -j KUBE-MARK-MASQ\nCOMMIT\n"
	if err := k.ipt.Restore(context.Background(), []byte(foreign)); err != nil {
		t.Fatal(err)
	}
	if err := b.Cleanup(context.Background()); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	want := `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-FOREIGN - [0:0]
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-SVC-FOREIGN -j KUBE-MARK-MASQ
COMMIT
`
	if got := k.ipt.Dump(); got != want {
		t.Errorf("iptables after cleanup:\n%s\nwant:\n%s", got, want)
	}
}
