package userspace

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// udpListener relays UDP: each client address gets a session with its own
// socket connected to one endpoint, which carries the client's datagrams there
// and the endpoint's replies back. A session ends after the idle timeout without
// datagrams either way.
type udpListener struct {
	relayBase
	conn    *net.UDPConn
	timeout time.Duration
	clock   clock.WithTicker
	pktinfo bool // replies must name their source address (bound to every address)
	bufs    *bufPool

	mu       sync.Mutex
	sessions map[netip.AddrPort]*udpSession
	sweeping bool // a sweeper goroutine runs
}

// listenUDP opens a UDP socket on bind:port (port 0: any free port), asking for
// each datagram's destination address when pktinfo is set.
func listenUDP(network string, bind netip.Addr, port int, pktinfo bool) (*net.UDPConn, int, error) {
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(bind, uint16(port))))
	if err != nil {
		return nil, 0, err
	}
	if pktinfo {
		if err := enablePktinfo(c, bind.Is6()); err != nil {
			_ = c.Close()
			return nil, 0, err
		}
	}
	return c, c.LocalAddr().(*net.UDPAddr).Port, nil
}

// start runs the read loop.
func (l *udpListener) start() {
	l.wg.Add(1)
	go l.readLoop()
}

// readLoop reads client datagrams until the listener is closed.
func (l *udpListener) readLoop() {
	defer l.wg.Done()
	rc, err := l.conn.SyscallConn()
	if err != nil {
		klog.ErrorS(err, "UDP listener unusable", "servicePort", l.label)
		return
	}
	oob := make([]byte, oobSize)
	var delay time.Duration
	for {
		err := recvInto(rc, l.bufs, oob, l.fromClient)
		if err == nil {
			delay = 0
			continue
		}
		if errors.Is(err, net.ErrClosed) || l.ctx.Err() != nil {
			return
		}
		klog.ErrorS(err, "Reading a UDP datagram failed", "servicePort", l.label, "port", l.portN)
		if !backoff(l.ctx, &delay) {
			return
		}
	}
}

// fromClient forwards one client datagram, opening its session if needed.
// Datagrams for a listener without endpoints are dropped.
func (l *udpListener) fromClient(b, oob []byte, from netip.AddrPort) {
	l.mu.Lock()
	s := l.sessions[from]
	l.mu.Unlock()
	if s == nil || s.closed.Load() {
		if s = l.newSession(from, oob); s == nil {
			return
		}
	}
	s.forward(b)
}

// newSession connects a socket to an endpoint for client and starts relaying its
// replies; nil when no endpoint is reachable.
func (l *udpListener) newSession(client netip.AddrPort, oob []byte) *udpSession {
	conn, ep, err := l.dialer.dial(l.ctx, l.pool, l.m, client.Addr(), l.label)
	if err != nil {
		klog.V(4).InfoS("No endpoint for UDP client", "servicePort", l.label, "client", client, "err", err)
		return nil
	}
	s := &udpSession{l: l, client: client, ep: ep, conn: conn.(*net.UDPConn)}
	if dst := pktinfoDest(oob); l.pktinfo && dst.IsValid() {
		s.src = pktinfoSource(dst.Unmap())
	}
	s.touch()
	l.mu.Lock()
	l.sessions[client] = s
	sweep := !l.sweeping
	l.sweeping = true
	l.mu.Unlock()
	l.m.opened()
	if !l.pool.track(ep, s) { // the endpoint went away meanwhile, or the listener closed
		_ = s.Close()
		return nil
	}
	l.wg.Add(1)
	go s.replies()
	if sweep {
		l.wg.Add(1)
		go l.sweeper()
	}
	return s
}

// sweeper ends idle sessions, checking every half timeout, and exits when none
// is left.
func (l *udpListener) sweeper() {
	defer l.wg.Done()
	t := l.clock.NewTicker(max(l.timeout/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C():
		}
		if !l.expire(l.clock.Now()) {
			return
		}
	}
}

// expire ends the sessions idle for the timeout or longer at now, and reports
// whether any session is left; when none is, the sweeper must stop.
func (l *udpListener) expire(now time.Time) (more bool) {
	l.mu.Lock()
	var idle []*udpSession
	for _, s := range l.sessions {
		if s.idle(now) >= l.timeout {
			idle = append(idle, s)
		}
	}
	more = len(l.sessions) > len(idle)
	if !more {
		l.sweeping = false
	}
	l.mu.Unlock()
	for _, s := range idle {
		_ = s.Close()
	}
	return more
}

// close stops reading and ends every session.
func (l *udpListener) close() {
	l.cancel()
	_ = l.conn.Close()
	closeAll(l.pool.close())
}

// reply sends an endpoint's datagram to the client from the address the client
// sent to.
func (l *udpListener) reply(b, src []byte, client netip.AddrPort) {
	if _, _, err := l.conn.WriteMsgUDPAddrPort(b, src, client); err != nil {
		klog.V(4).InfoS("Relaying a UDP reply failed", "servicePort", l.label, "client", client, "err", err)
	}
}
