package userspace

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// A UDP listener bound to every address must answer each client from the very
// address the client's packet was sent to (after the portal's REDIRECT or DNAT),
// or conntrack cannot undo the NAT and the client drops the reply. Left to
// itself, the kernel picks the source address by route. So the listener asks
// for each packet's destination (IP_PKTINFO / IPV6_RECVPKTINFO) and sets it as
// the source of the replies.

// enablePktinfo asks the kernel for the destination address of each packet.
func enablePktinfo(c *net.UDPConn, ipv6 bool) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if ipv6 {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVPKTINFO, 1)
		} else {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_PKTINFO, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// oobSize is enough room for the control message enablePktinfo asks for.
const oobSize = 64

// pktinfoDest returns the destination address of a received packet from its
// control messages, or the invalid address.
func pktinfoDest(oob []byte) netip.Addr {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return netip.Addr{}
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_PKTINFO &&
			len(m.Data) >= syscall.SizeofInet4Pktinfo:
			// struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
			return netip.AddrFrom4([4]byte(m.Data[8:12]))
		case m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_PKTINFO &&
			len(m.Data) >= syscall.SizeofInet6Pktinfo:
			// struct in6_pktinfo { in6_addr addr; int ifindex; }
			return netip.AddrFrom16([16]byte(m.Data[0:16]))
		}
	}
	return netip.Addr{}
}

// pktinfoSource returns the control message that makes a reply leave from src.
func pktinfoSource(src netip.Addr) []byte {
	if src.Is4() {
		b := make([]byte, syscall.CmsgSpace(syscall.SizeofInet4Pktinfo))
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = syscall.IPPROTO_IP, syscall.IP_PKTINFO
		h.SetLen(syscall.CmsgLen(syscall.SizeofInet4Pktinfo))
		a := src.As4()
		copy(b[syscall.CmsgLen(0)+4:], a[:]) // spec_dst
		return b
	}
	b := make([]byte, syscall.CmsgSpace(syscall.SizeofInet6Pktinfo))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = syscall.IPPROTO_IPV6, syscall.IPV6_PKTINFO
	h.SetLen(syscall.CmsgLen(syscall.SizeofInet6Pktinfo))
	a := src.As16()
	copy(b[syscall.CmsgLen(0):], a[:])
	return b
}
