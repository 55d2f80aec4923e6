package userspace

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"
)

// udpSession is one UDP client's flow to its endpoint.
type udpSession struct {
	l      *udpListener
	client netip.AddrPort
	ep     netip.AddrPort
	conn   *net.UDPConn // connected to ep
	src    []byte       // control message setting replies' source; nil: none needed

	last             atomic.Int64 // clock time of the last datagram either way, Unix ns
	toEndpoint, back atomic.Int64 // bytes relayed each way
	closed           atomic.Bool
}

// touch records activity now.
func (s *udpSession) touch() { s.last.Store(s.l.clock.Now().UnixNano()) }

// idle returns how long the session has been silent at now.
func (s *udpSession) idle(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, s.last.Load()))
}

// forward sends a client datagram to the endpoint. A failure (the endpoint
// refused an earlier datagram) ends the session; the next datagram opens another.
func (s *udpSession) forward(b []byte) {
	n, err := s.conn.Write(b)
	if err != nil {
		klog.V(4).InfoS("Relaying a UDP datagram failed", "servicePort", s.l.label, "endpoint", s.ep, "err", err)
		_ = s.Close()
		return
	}
	s.toEndpoint.Add(int64(n))
	s.touch()
}

// replies relays the endpoint's datagrams to the client until the session ends.
func (s *udpSession) replies() {
	defer s.l.wg.Done()
	defer s.Close()
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return
	}
	for {
		err := readInto(rc, s.l.bufs, func(b []byte) {
			s.l.reply(b, s.src, s.client)
			s.back.Add(int64(len(b)))
			s.touch()
		})
		if err != nil {
			return
		}
	}
}

// Close ends the session: it leaves its listener and pool and closes its socket,
// which ends replies. Closing twice does nothing.
func (s *udpSession) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	l := s.l
	l.mu.Lock()
	if l.sessions[s.client] == s {
		delete(l.sessions, s.client)
	}
	l.mu.Unlock()
	l.pool.untrack(s.ep, s)
	err := s.conn.Close()
	l.m.ended(s.toEndpoint.Load(), s.back.Load())
	return err
}
