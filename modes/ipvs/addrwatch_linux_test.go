//go:build linux

package ipvsmode

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/netnstest"
)

// TestKernelAddressWatch: in a network namespace of its own, binding addresses
// to kube-ipvs0, 5,000 at once, leaves the node's addresses unchanged (also when
// kube-ipvs0 was created after the listing), adding one to another
// interface changes them within a second, and listing them clears the mark.
func TestKernelAddressWatch(t *testing.T) {
	netnstest.Require(t)
	nl, err := NewNetlink()
	if err != nil {
		t.Fatal(err)
	}
	w := nl.(AddressWatcher)
	// The first listing happens before kube-ipvs0 exists, as on a new node.
	if _, err := nl.LocalAddresses(v1.IPv4Protocol, DummyDevice); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{DummyDevice, "kp-node0"} {
		// Bridges, not dummies: the test machines' kernel may lack the dummy
		// module, and addresses behave the same on any interface.
		link := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: dev}}
		if err := nl.(*kernelNetlink).h.LinkAdd(link); err != nil {
			t.Skipf("cannot create interface %s: %v", dev, err)
		}
		t.Cleanup(func() { _ = nl.(*kernelNetlink).h.LinkDel(link) })
	}
	steps := []struct {
		dev, addr string
		want      bool
	}{
		{DummyDevice, "10.96.0.1", false},
		{"kp-node0", "fe80::1", false}, // IPv6 link-local
		{"kp-node0", "192.168.7.1", true},
	}
	// A full sync binds thousands of addresses at once: their notifications
	// must not overflow the subscription (which would read as a change).
	for i := range 5000 {
		a := netip.AddrFrom4([4]byte{10, 97, byte(i / 250), byte(1 + i%250)})
		if err := nl.AddAddress(DummyDevice, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range steps {
		if err := nl.AddAddress(st.dev, netip.MustParseAddr(st.addr)); err != nil {
			t.Fatal(err)
		}
		if got := waitChanged(w, st.want); got != st.want {
			t.Errorf("after adding %s to %s: changed = %v, want %v", st.addr, st.dev, got, st.want)
		}
	}
	addrs, err := nl.LocalAddresses(v1.IPv4Protocol, DummyDevice)
	if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("192.168.7.1") {
		t.Errorf("LocalAddresses = %v, %v; want [192.168.7.1]", addrs, err)
	}
	if w.LocalAddressesChanged() {
		t.Error("changed = true right after listing")
	}
}

// waitChanged polls for up to a second for LocalAddressesChanged to be want (a
// notification arrives asynchronously), and returns its last answer.
func waitChanged(w AddressWatcher, want bool) bool {
	deadline := time.Now().Add(time.Second)
	for {
		got := w.LocalAddressesChanged()
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}
