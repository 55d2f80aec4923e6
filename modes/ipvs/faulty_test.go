package ipvsmode

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/ipvs"
	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/modes/ipvs/ipvstest"
)

// TestFaultsFromEnv: without the variable the handle is used as is; with it,
// writes fail while the marker file exists and reach the kernel otherwise.
func TestFaultsFromEnv(t *testing.T) {
	fake := ipvstest.New()
	t.Setenv(EnvFaults, "")
	if h := FaultsFromEnv(fake); h != Handle(fake) {
		t.Fatalf("FaultsFromEnv without %s wrapped the handle: %T", EnvFaults, h)
	}
	marker := filepath.Join(t.TempDir(), "fail")
	t.Setenv(EnvFaults, marker)
	h := FaultsFromEnv(fake)
	svc := func(port uint16) *ipvs.Service {
		return &ipvs.Service{AddressFamily: 2, Protocol: 6, Address: []byte{10, 96, 0, 1}, Port: port, SchedName: "rr", Netmask: 0xffffffff}
	}
	if err := h.NewService(svc(80)); err != nil {
		t.Fatalf("NewService without the marker: %v", err)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.NewService(svc(81)); !errors.Is(err, errInjected) {
		t.Errorf("NewService with the marker = %v, want the injected failure", err)
	}
	if err := h.DelService(svc(80)); !errors.Is(err, errInjected) {
		t.Errorf("DelService with the marker = %v, want the injected failure", err)
	}
	if got, err := h.GetServices(); err != nil || len(got) != 1 {
		t.Errorf("GetServices with the marker = %d services, %v; want the one added before", len(got), err)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if err := h.NewService(svc(81)); err != nil {
		t.Errorf("NewService once the marker is gone: %v", err)
	}
}

// TestNetlinkFaultsFromEnv: the dummy interface and its addresses cannot be
// changed while the marker exists, can be again once it is gone, and reads pass.
func TestNetlinkFaultsFromEnv(t *testing.T) {
	fake := ipvstest.NewNetlink()
	t.Setenv(EnvFaults, "")
	if n := NetlinkFaultsFromEnv(fake); n != Netlink(fake) {
		t.Fatalf("NetlinkFaultsFromEnv without %s wrapped the seam: %T", EnvFaults, n)
	}
	marker := filepath.Join(t.TempDir(), "fail")
	t.Setenv(EnvFaults, marker)
	n := NetlinkFaultsFromEnv(fake)
	vip, other := netip.MustParseAddr("10.96.0.1"), netip.MustParseAddr("10.96.0.2")
	if err := n.EnsureDummy(DummyDevice); err != nil {
		t.Fatalf("EnsureDummy without the marker: %v", err)
	}
	if err := n.AddAddress(DummyDevice, vip); err != nil {
		t.Fatalf("AddAddress without the marker: %v", err)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.AddAddress(DummyDevice, other); !errors.Is(err, errInjected) {
		t.Errorf("AddAddress with the marker = %v, want the injected failure", err)
	}
	if err := n.DelAddress(DummyDevice, vip); !errors.Is(err, errInjected) {
		t.Errorf("DelAddress with the marker = %v, want the injected failure", err)
	}
	if got, err := n.Addresses(DummyDevice, v1.IPv4Protocol); err != nil || !slices.Equal(got, []netip.Addr{vip}) {
		t.Errorf("Addresses with the marker = %v, %v; want only %s", got, err, vip)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if err := n.AddAddress(DummyDevice, other); err != nil {
		t.Errorf("AddAddress once the marker is gone: %v", err)
	}
	if got := fake.LinkAddresses(DummyDevice); len(got) != 2 {
		t.Errorf("kube-ipvs0 holds %v, want both addresses", got)
	}
}
