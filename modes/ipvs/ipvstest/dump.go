package ipvstest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/ipvs"
)

// Dump prints the table like "ipvsadm -Ln", virtual servers sorted by protocol,
// address and port, real servers by address and port. Equal tables give equal
// dumps.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\n")
	b.WriteString("Prot LocalAddress:Port Scheduler Flags\n")
	b.WriteString("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	for _, k := range f.sortedKeys() {
		svc := f.services[k]
		b.WriteString(serviceLine(k, &svc.svc))
		for _, ap := range sortedDests(svc.dests) {
			d := svc.dests[ap]
			fmt.Fprintf(&b, "  -> %-28s %-7s %-6d %-10d %d\n", ap, forward(d.flags), d.weight, d.active, d.inactive)
		}
	}
	return b.String()
}

// serviceLine is "TCP  10.0.0.1:80 rr persistent 10800".
func serviceLine(k Key, s *ipvs.Service) string {
	line := fmt.Sprintf("%-4s %s %s", protoName(k.Protocol), netip.AddrPortFrom(k.Addr, k.Port), s.SchedName)
	if s.Flags&flagPersistent != 0 {
		line += " persistent " + strconv.FormatUint(uint64(s.Timeout), 10)
	}
	if s.Flags&0x10 != 0 {
		line += " " + s.SchedName + "-port"
	}
	if s.Flags&0x8 != 0 {
		line += " " + s.SchedName + "-fallback"
	}
	return line + "\n"
}

func protoName(p uint16) string {
	switch p {
	case syscall.IPPROTO_TCP:
		return "TCP"
	case syscall.IPPROTO_UDP:
		return "UDP"
	case syscall.IPPROTO_SCTP:
		return "SCTP"
	}
	return strconv.Itoa(int(p))
}

func forward(flags uint32) string {
	switch flags & ipvs.ConnectionFlagFwdMask {
	case ipvs.ConnectionFlagMasq:
		return "Masq"
	case ipvs.ConnectionFlagLocalNode:
		return "Local"
	case ipvs.ConnectionFlagTunnel:
		return "Tunnel"
	case ipvs.ConnectionFlagDirectRoute:
		return "Route"
	}
	return "?"
}

// RealServer is one real server of a virtual server, as the Tracer sees it.
type RealServer struct {
	Addr   netip.AddrPort
	Weight int
}

// Lookup returns the real servers of the virtual server k, sorted, and whether the
// virtual server exists.
func (f *Fake) Lookup(k Key) ([]RealServer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	svc := f.services[k]
	if svc == nil {
		return nil, false
	}
	out := make([]RealServer, 0, len(svc.dests))
	for _, ap := range sortedDests(svc.dests) {
		out = append(out, RealServer{Addr: ap, Weight: svc.dests[ap].weight})
	}
	return out, true
}

// ProtocolNumber returns the IP protocol number of "tcp", "udp" or "sctp" (any
// case), or 0.
func ProtocolNumber(proto string) uint16 {
	switch strings.ToLower(proto) {
	case "tcp":
		return syscall.IPPROTO_TCP
	case "udp":
		return syscall.IPPROTO_UDP
	case "sctp":
		return syscall.IPPROTO_SCTP
	}
	return 0
}

// String prints the key as "TCP 10.0.0.1:80".
func (k Key) String() string {
	return protoName(k.Protocol) + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
}
