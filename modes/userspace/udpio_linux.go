package userspace

import (
	"net/netip"
	"sync"
	"syscall"
)

// maxDatagram is the largest UDP payload relayed.
const maxDatagram = 65535

// bufPool lends buffers of one size. UDP sockets wait for data without a buffer
// and borrow one only to read a datagram that is there, so idle sessions and
// listeners hold no buffer; TCP relays do the same for small copies.
type bufPool struct{ p sync.Pool }

func newBufPool(size int) *bufPool {
	return &bufPool{p: sync.Pool{New: func() any { b := make([]byte, size); return &b }}}
}

func (bp *bufPool) get() *[]byte  { return bp.p.Get().(*[]byte) }
func (bp *bufPool) put(b *[]byte) { bp.p.Put(b) }

// readInto waits until a datagram can be read from a connected socket and hands
// it to handle in a lent buffer, valid during the call only.
func readInto(rc syscall.RawConn, bufs *bufPool, handle func([]byte)) error {
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		b := bufs.get()
		defer bufs.put(b)
		n, err := syscall.Read(int(fd), *b)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return false
		}
		if err != nil {
			rerr = err
			return true
		}
		handle((*b)[:n])
		return true
	})
	if err != nil {
		return err
	}
	return rerr
}

// recvInto waits until a datagram can be read from an unconnected socket and
// hands it to handle with its control messages and sender, in lent buffers
// valid during the call only.
func recvInto(rc syscall.RawConn, bufs *bufPool, oob []byte, handle func(b, oob []byte, from netip.AddrPort)) error {
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		b := bufs.get()
		defer bufs.put(b)
		n, oobn, _, sa, err := syscall.Recvmsg(int(fd), *b, oob, 0)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return false
		}
		if err != nil {
			rerr = err
			return true
		}
		handle((*b)[:n], oob[:oobn], sockaddrAddrPort(sa))
		return true
	})
	if err != nil {
		return err
	}
	return rerr
}

// sockaddrAddrPort converts a socket address, unmapping IPv4-in-IPv6.
func sockaddrAddrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}
