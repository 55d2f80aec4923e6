package ipvstest

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/moby/ipvs"
)

func svc(addr string, port uint16, sched string) *ipvs.Service {
	a := netip.MustParseAddr(addr)
	s := &ipvs.Service{Address: a.AsSlice(), Protocol: syscall.IPPROTO_TCP, Port: port, SchedName: sched,
		AddressFamily: afInet, Netmask: 0xffffffff}
	if a.Is6() {
		s.AddressFamily, s.Netmask = afInet6, 128
	}
	return s
}

func dst(ap string, weight int) *ipvs.Destination {
	p := netip.MustParseAddrPort(ap)
	return &ipvs.Destination{Address: p.Addr().AsSlice(), Port: p.Port(), Weight: weight}
}

func dst6(ap string) *ipvs.Destination {
	d := dst(ap, 1)
	d.AddressFamily = afInet6
	return d
}

// TestFakeErrors: the Fake refuses what the kernel refuses, with its errno.
func TestFakeErrors(t *testing.T) {
	f := New()
	f.SetSchedulers("rr", "wlc")
	if err := f.NewService(svc("10.0.0.1", 80, "rr")); err != nil {
		t.Fatal(err)
	}
	if err := f.NewDestination(svc("10.0.0.1", 80, "rr"), dst("10.1.0.1:8080", 1)); err != nil {
		t.Fatal(err)
	}
	v6NoMask := svc("fd00::1", 80, "rr")
	v6NoMask.Netmask = 0
	persistentNoTimeout := svc("10.0.0.3", 80, "rr")
	persistentNoTimeout.Flags = 1
	for _, tc := range []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"duplicate virtual server", f.NewService(svc("10.0.0.1", 80, "wlc")), syscall.EEXIST},
		{"scheduler without module", f.NewService(svc("10.0.0.2", 80, "lblcr")), syscall.ENOENT},
		{"IPv6 without netmask", f.NewService(v6NoMask), syscall.EINVAL},
		{"persistence without timeout", f.NewService(persistentNoTimeout), syscall.EINVAL},
		{"update of a missing virtual server", f.UpdateService(svc("10.0.0.9", 80, "rr")), syscall.ESRCH},
		{"delete of a missing virtual server", f.DelService(svc("10.0.0.9", 80, "rr")), syscall.ESRCH},
		{"real server of a missing virtual server", f.NewDestination(svc("10.0.0.9", 80, "rr"), dst("10.1.0.1:80", 1)), syscall.ESRCH},
		{"duplicate real server", f.NewDestination(svc("10.0.0.1", 80, "rr"), dst("10.1.0.1:8080", 1)), syscall.EEXIST},
		{"update of a missing real server", f.UpdateDestination(svc("10.0.0.1", 80, "rr"), dst("10.1.0.2:8080", 1)), syscall.ENOENT},
		{"delete of a missing real server", f.DelDestination(svc("10.0.0.1", 80, "rr"), dst("10.1.0.2:8080", 1)), syscall.ENOENT},
		{"masqueraded real server of the other family", f.NewDestination(svc("10.0.0.1", 80, "rr"), dst6("[fd00::1]:80")), syscall.EINVAL},
		{"address not of the family", f.NewDestination(svc("10.0.0.1", 80, "rr"), dst("[fd00::1]:80", 1)), syscall.EAFNOSUPPORT},
		{"negative weight", f.NewDestination(svc("10.0.0.1", 80, "rr"), dst("10.1.0.3:8080", -1)), syscall.ERANGE},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if f.Len() != 1 {
		t.Errorf("failed calls changed the table:\n%s", f.Dump())
	}
}

func TestFakeDumpAndConnections(t *testing.T) {
	f := New()
	s1, s2 := svc("10.0.0.2", 443, "rr"), svc("10.0.0.1", 80, "sh")
	s2.Flags, s2.Timeout = 1, 10800
	s6 := svc("fd00::1", 53, "mh")
	s6.Protocol, s6.Flags = syscall.IPPROTO_UDP, 0x10
	for _, s := range []*ipvs.Service{s1, s2, s6} {
		if err := f.NewService(s); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.NewDestination(s2, dst("10.1.0.2:8080", 1))
	_ = f.NewDestination(s2, dst("10.1.0.1:8080", 1))
	_ = f.NewDestination(s6, dst("[fd00::2]:5353", 1))
	k := Key{Protocol: syscall.IPPROTO_TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	if err := f.SetConnections(k, netip.MustParseAddrPort("10.1.0.2:8080"), 3, 4); err != nil {
		t.Fatal(err)
	}
	_ = f.UpdateDestination(s2, dst("10.1.0.2:8080", 0)) // keeps the connections
	want := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 sh persistent 10800
  -> 10.1.0.1:8080                Masq    1      0          0
  -> 10.1.0.2:8080                Masq    0      3          4
TCP  10.0.0.2:443 rr
UDP  [fd00::1]:53 mh mh-port
  -> [fd00::2]:5353               Masq    1      0          0
`
	if got := f.Dump(); got != want {
		t.Errorf("Dump:\n%s\nwant:\n%s", got, want)
	}
	svcs, _ := f.GetServices()
	if len(svcs) != 3 || svcs[0].Flags != 1|flagHashed {
		t.Errorf("GetServices: %d services, first flags %#x; want 3, persistent|hashed", len(svcs), svcs[0].Flags)
	}
	dests, _ := f.GetDestinations(s2)
	if len(dests) != 2 || dests[1].ActiveConnections != 3 || dests[1].InactiveConnections != 4 || dests[1].AddressFamily != afInet {
		t.Errorf("GetDestinations = %+v", dests)
	}
	if ops := f.Ops(); ops.NewService != 3 || ops.NewDestination != 3 || ops.UpdateDestination != 1 || ops.Writes() != 7 {
		t.Errorf("Ops = %+v", ops)
	}
}

func TestFaulty(t *testing.T) {
	f := New()
	h := NewFaulty(f)
	h.FailWrite(2)
	s := svc("10.0.0.1", 80, "rr")
	if err := h.NewService(s); err != nil {
		t.Fatal(err)
	}
	if err := h.NewDestination(s, dst("10.1.0.1:80", 1)); !errors.Is(err, ErrInjected) {
		t.Errorf("second write = %v, want the injected error", err)
	}
	if _, err := h.GetDestinations(s); err != nil {
		t.Errorf("reads pass: %v", err)
	}
	h.FailNext(1)
	if err := h.DelService(s); !errors.Is(err, ErrInjected) || f.Len() != 1 {
		t.Errorf("DelService = %v with %d services left", err, f.Len())
	}
	if err := h.DelService(s); err != nil || f.Len() != 0 || h.Writes() != 4 || h.Failed() != 2 {
		t.Errorf("DelService = %v, %d left, %d writes, %d failed", err, f.Len(), h.Writes(), h.Failed())
	}
}

func TestNetlink(t *testing.T) {
	n := NewNetlink()
	n.AddLink("eth0", netip.MustParseAddr("192.168.0.10"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fd00::10"))
	if err := n.AddAddress("kube-ipvs0", netip.MustParseAddr("10.0.0.1")); !errors.Is(err, syscall.ENODEV) {
		t.Errorf("AddAddress without the link = %v", err)
	}
	if err := n.EnsureDummy("kube-ipvs0"); err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureDummy("eth0"); err == nil {
		t.Error("EnsureDummy of a real interface worked")
	}
	for _, a := range []string{"10.0.0.1", "10.0.0.1", "fd00::1"} {
		if err := n.AddAddress("kube-ipvs0", netip.MustParseAddr(a)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := n.Addresses("kube-ipvs0", "IPv4"); len(got) != 1 {
		t.Errorf("IPv4 addresses of kube-ipvs0 = %v", got)
	}
	local, _ := n.LocalAddresses("IPv6", "kube-ipvs0")
	if len(local) != 1 || local[0] != netip.MustParseAddr("fd00::10") {
		t.Errorf("LocalAddresses(IPv6) = %v, want fd00::10 (no loopback, no link-local, not kube-ipvs0)", local)
	}
	if err := n.DeleteDummy("kube-ipvs0"); err != nil || n.HasLink("kube-ipvs0") {
		t.Errorf("DeleteDummy = %v", err)
	}
	if err := n.DeleteDummy("kube-ipvs0"); err != nil {
		t.Errorf("DeleteDummy of a missing link = %v", err)
	}
}
