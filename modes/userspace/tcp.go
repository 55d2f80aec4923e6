package userspace

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"k8s.io/klog/v2"
)

// tcpListener relays the TCP connections of one listener.
type tcpListener struct {
	relayBase
	ln      *net.TCPListener
	bufs    *bufPool // lends the buffers of small copies
	workers *workers // run serve and the relays' second direction
}

// listenTCP opens a TCP listener on bind:port (port 0: any free port).
func listenTCP(network string, bind netip.Addr, port int) (*net.TCPListener, int, error) {
	l, err := listenConfig.Listen(context.Background(), network, netip.AddrPortFrom(bind, uint16(port)).String())
	if err != nil {
		return nil, 0, err
	}
	ln := l.(*net.TCPListener)
	return ln, ln.Addr().(*net.TCPAddr).Port, nil
}

// start starts accepting connections.
func (l *tcpListener) start() {
	l.workers.run(l.acceptOne)
}

// acceptOne waits for a connection, hands the wait for the next one to
// another worker and serves this one itself. A connection thus starts on the
// goroutine that accepted it, without waiting for another to be scheduled;
// the hand-over happens while it is being dialed and relayed.
func (l *tcpListener) acceptOne() {
	c, ok := l.accept()
	if !ok {
		return
	}
	l.workers.run(l.acceptOne)
	l.serve(c)
}

// accept returns the next connection, or false once the listener is closed.
// Failures such as running out of file descriptors are retried with a
// growing delay.
func (l *tcpListener) accept() (*net.TCPConn, bool) {
	var delay time.Duration
	for {
		c, err := l.ln.AcceptTCP()
		if err == nil {
			return c, true
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, false
		}
		klog.ErrorS(err, "Accepting a connection failed", "servicePort", l.label, "port", l.portN)
		if !backoff(l.ctx, &delay) {
			return nil, false
		}
	}
}

// serve connects c to an endpoint and relays it. A connection that reaches no
// endpoint is reset, as a REJECT would.
func (l *tcpListener) serve(c *net.TCPConn) {
	client := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	conn, ep, err := l.dialer.dial(l.ctx, l.pool, l.m, client, l.label)
	if err != nil {
		klog.V(4).InfoS("No endpoint for connection", "servicePort", l.label, "client", client, "err", err)
		_ = c.SetLinger(0)
		_ = c.Close()
		return
	}
	p := &tcpPair{client: c, backend: conn.(*net.TCPConn)}
	if !l.pool.track(ep, p) {
		_ = p.Close()
		return
	}
	l.m.opened()
	up, down := relay(p.client, p.backend, l.bufs, l.workers)
	l.pool.untrack(ep, p)
	l.m.ended(up, down)
}

// close stops accepting and closes every connection.
func (l *tcpListener) close() {
	l.cancel()
	_ = l.ln.Close()
	closeAll(l.pool.close())
}

// tcpPair is one relayed connection: the client's and the endpoint's sides.
type tcpPair struct {
	client, backend *net.TCPConn
}

// Close closes both sides, ending the relay.
func (p *tcpPair) Close() error {
	return errors.Join(p.client.Close(), p.backend.Close())
}
