package main

import (
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"time"

	"github.com/moby/ipvs"
)

// swap replaces one real server of a TCP virtual server with another, as a
// program calling the kernel directly would (no process start per step):
// it deletes oldRS and adds newRS (masquerading, weight 1) through one
// netlink handle and prints the wall time of each call in microseconds,
// "<delete> <add>".
func swap(args []string, out io.Writer) int {
	if len(args) != 3 {
		fmt.Fprintln(out, "usage: kpguest swap VIP:PORT OLD:PORT NEW:PORT")
		return 2
	}
	var aps [3]netip.AddrPort
	for i, a := range args {
		ap, err := netip.ParseAddrPort(a)
		if err != nil || !ap.Addr().Is4() {
			fmt.Fprintf(out, "kpguest swap: %q is not an IPv4 address and port\n", a)
			return 2
		}
		aps[i] = ap
	}
	h, err := ipvs.New("")
	if err != nil {
		fmt.Fprintf(out, "kpguest swap: %v\n", err)
		return 1
	}
	defer h.Close()
	svc := &ipvs.Service{Address: aps[0].Addr().AsSlice(), Protocol: syscall.IPPROTO_TCP, Port: aps[0].Port(), AddressFamily: syscall.AF_INET}
	start := time.Now()
	if err := h.DelDestination(svc, destination(aps[1])); err != nil {
		fmt.Fprintf(out, "kpguest swap: deleting %s: %v\n", aps[1], err)
		return 1
	}
	del := time.Since(start)
	start = time.Now()
	if err := h.NewDestination(svc, destination(aps[2])); err != nil {
		fmt.Fprintf(out, "kpguest swap: adding %s: %v\n", aps[2], err)
		return 1
	}
	fmt.Fprintln(out, del.Microseconds(), time.Since(start).Microseconds())
	return 0
}

// destination is a masqueraded real server of weight 1.
func destination(ap netip.AddrPort) *ipvs.Destination {
	return &ipvs.Destination{
		Address: ap.Addr().AsSlice(), Port: ap.Port(), Weight: 1,
		AddressFamily: syscall.AF_INET, ConnectionFlags: ipvs.ConnectionFlagMasq,
	}
}
