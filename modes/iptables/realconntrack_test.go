package iptablesmode

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestRealKernelConntrack sends a UDP packet to a cluster IP so the kernel records a
// DNATed flow, removes the endpoint, and checks that conntrack.Netlink deleted the
// flow after the sync.
func TestRealKernelConntrack(t *testing.T) {
	requireNetns(t)
	ctx := context.Background()
	run(t, "ip", "link", "set", "lo", "up")
	run(t, "ip", "link", "add", "kc0", "type", "veth", "peer", "name", "kc1")
	defer exec.Command("ip", "link", "del", "kc0").Run()
	run(t, "ip", "addr", "add", "10.0.1.53/32", "dev", "kc0")
	run(t, "ip", "link", "set", "kc0", "up")
	run(t, "ip", "link", "set", "kc1", "up")
	run(t, "ip", "route", "replace", "172.30.0.0/16", "dev", "kc0")

	pc, err := net.ListenPacket("udp", "10.0.1.53:5353")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	client := iptables.New(iptables.IPv4, realVariants(t)[0])
	be := newTestBackend(t, v1.IPv4Protocol, client, packetflow.Settings{},
		func(o *Options) { o.Conntrack = conntrack.NewNetlink(v1.IPv4Protocol) })
	defer be.Cleanup(ctx)
	b := packetflow.NewBuilder(packetflow.ThisNode)
	b.Service(packetflow.NewService("real", "dns", "172.30.0.53", packetflow.Port("dns", v1.ProtocolUDP, 53, 0)))
	slice := packetflow.NewSlice("real", "dns", "dns-1", v1.IPv4Protocol, "dns", v1.ProtocolUDP, 5353,
		packetflow.Endpoint{IP: "10.0.1.53", Node: packetflow.ThisNode})
	b.Slice(slice)
	snap, _ := b.Snapshot(v1.IPv4Protocol)
	mustSync(t, be, snap, full)

	conn, err := net.Dial("udp", "172.30.0.53:53")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("query")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 16)
	if _, _, err := pc.ReadFrom(buf); err != nil {
		t.Fatalf("the endpoint got nothing through the cluster IP: %v", err)
	}
	if !hasFlow(t, "172.30.0.53", "10.0.1.53") {
		t.Fatal("no conntrack flow from the cluster IP to the endpoint")
	}

	b.DeleteSlice(slice)
	snap, changes := b.Snapshot(v1.IPv4Protocol)
	mustSync(t, be, snap, changes)
	if hasFlow(t, "172.30.0.53", "10.0.1.53") {
		t.Error("the flow to the removed endpoint survived the sync")
	}
}

// hasFlow reports whether conntrack holds a UDP flow to dst DNATed to ep.
func hasFlow(t *testing.T, dst, ep string) bool {
	t.Helper()
	flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
	if err != nil {
		t.Fatalf("listing conntrack: %v", err)
	}
	for _, f := range flows {
		if f.Forward.Protocol == unix.IPPROTO_UDP && addrIs(f.Forward.DstIP, dst) && addrIs(f.Reverse.SrcIP, ep) {
			return true
		}
	}
	return false
}

// addrIs compares a net.IP with an address string.
func addrIs(ip net.IP, s string) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && a.Unmap() == netip.MustParseAddr(s)
}
