package userspace

import (
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// Sides of a relayed connection.
const (
	sideClient   = 0 // the socket accepted from the client
	sideEndpoint = 1 // the socket dialed to the endpoint
)

// relayEvents are what both sides of a relayed connection are watched for, once
// and edge-triggered: an event only says that something changed, and the
// relay remembers what each side can do until a call says otherwise.
const relayEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// connState is where a relayed connection is in its life.
type connState uint8

const (
	stateDialing  connState = iota // the endpoint's connect is under way
	stateRelaying                  // data moves
	stateEnded                     // both sockets are closed
)

// relayConn is one relayed TCP connection. Only its loop's goroutine touches
// it, except Close.
type relayConn struct {
	ln       *tcpListener
	lp       *loop
	fd       [2]int // by side; -1 when closed or not yet dialed
	canRead  [2]bool
	canWrite [2]bool
	finSeen  [2]bool // the side's peer sent its FIN (EPOLLRDHUP): a read must see the EOF
	halves   [2]half // by source side: halves[sideClient] carries the client's data
	state    connState
	tracked  bool // registered with the pool under ep
	client   netip.Addr
	ep       netip.AddrPort
	dial     dialState
}

// half is one direction of a relayed connection.
type half struct {
	pending []byte // read from the source, not yet taken by the destination
	pipe    *pipe  // borrowed while a transfer is spliced
	bulk    bool   // the last read filled its buffer: splice the next ones
	eof     bool   // the source sent its FIN
	shut    bool   // the FIN was passed on: the destination is shut for writing
	bytes   int64  // written to the destination
}

// Close ends the connection (both sockets closed) on its loop's goroutine. It
// is how the pool closes connections to removed endpoints.
func (c *relayConn) Close() error {
	c.lp.post(func() { c.end() })
	return nil
}

// handle takes an event on one side.
func (c *relayConn) handle(side int, ev uint32) {
	if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		c.canRead[side] = true
	}
	if ev&(syscall.EPOLLOUT|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		c.canWrite[side] = true
	}
	if ev&(syscall.EPOLLRDHUP|syscall.EPOLLHUP) != 0 {
		c.finSeen[side] = true
	}
	switch c.state {
	case stateDialing:
		if side == sideEndpoint {
			c.dialDone()
		} else if ev&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
			c.end() // the client left during the dial
		}
	case stateRelaying:
		if ev&syscall.EPOLLERR != 0 {
			if err := socketError(c.fd[side]); err != nil {
				c.fail(side, err)
				return
			}
		}
		c.relay()
	}
}

// startRelaying is called once the endpoint accepted the connection.
func (c *relayConn) startRelaying() {
	if !c.ln.pool.track(c.ep, c) {
		c.end() // the endpoint was removed or the listener closed meanwhile
		return
	}
	c.state, c.tracked = stateRelaying, true
	c.ln.m.opened()
	c.canWrite = [2]bool{true, true}
	c.relay()
}

// relay moves whatever can move, both ways.
func (c *relayConn) relay() {
	if c.pump(sideClient) {
		c.pump(sideEndpoint)
	}
}

// pump moves data from side src to the other side until one of them would
// block, and passes on src's EOF. It returns false once the connection ended.
func (c *relayConn) pump(src int) bool {
	h := &c.halves[src]
	for c.state == stateRelaying {
		if !c.flush(src) {
			break
		}
		if h.pipe != nil && !h.bulk {
			c.lp.pipes.put(h.pipe)
			h.pipe = nil
		}
		if h.eof {
			return c.passEOF(src)
		}
		if !c.canRead[src] {
			return true
		}
		c.readSome(src)
	}
	return c.state == stateRelaying
}

// readSome reads from src once, into the loop's buffer (then writes it on) or,
// during a bulk transfer, into a pipe.
func (c *relayConn) readSome(src int) {
	h := &c.halves[src]
	if h.bulk {
		c.spliceIn(src)
		return
	}
	buf := c.lp.scratch
	n, err := syscall.Read(c.fd[src], buf)
	switch {
	case err == syscall.EAGAIN:
		c.canRead[src] = false
	case err == syscall.EINTR:
	case err != nil:
		c.fail(src, err)
	case n == 0:
		h.eof = true
	default:
		// A read that did not fill the buffer emptied the socket: anything
		// arriving later brings a new event. A FIN that came with the data
		// brought its event already, so then the next read must see it.
		if n < len(buf) && !c.finSeen[src] {
			c.canRead[src] = false
		} else {
			h.bulk = true
		}
		c.send(src, buf[:n])
	}
}

// spliceIn moves what src holds into the half's pipe. A splice may stop short
// of what the socket holds (the pipe has a limited number of slots), so only
// EAGAIN says it is empty.
func (c *relayConn) spliceIn(src int) {
	h := &c.halves[src]
	if h.pipe == nil {
		p, err := c.lp.pipes.get()
		if err != nil {
			klog.V(2).InfoS("No pipe to splice through; copying", "servicePort", c.ln.label, "err", err)
			h.bulk = false
			return
		}
		h.pipe = p
	}
	n, err := h.pipe.fill(c.fd[src], maxSplice)
	switch {
	case err == syscall.EAGAIN:
		c.canRead[src] = false
		h.bulk = false // small reads are copied again; the pipe goes back once empty
	case err == syscall.EINTR:
	case err != nil:
		c.fail(src, err)
	case n == 0:
		h.eof, h.bulk = true, false
	}
}

// maxSplice is the most one splice asks for; the pipe's capacity limits it.
const maxSplice = 1 << 20

// send writes b (read from src) to the other side and keeps what it did not
// take.
func (c *relayConn) send(src int, b []byte) {
	h, dst := &c.halves[src], 1-src
	if c.canWrite[dst] {
		n, err := syscall.Write(c.fd[dst], b)
		if n > 0 {
			h.bytes += int64(n)
			b = b[n:]
		}
		switch {
		case err == syscall.EAGAIN || (err == nil && len(b) > 0):
			c.canWrite[dst] = false // the send buffer is full
		case err != nil && err != syscall.EINTR:
			c.fail(dst, err)
			return
		}
	}
	if len(b) > 0 {
		h.pending = append([]byte(nil), b...)
	}
}

// flush writes what half src holds on to the other side. It returns whether
// nothing is left; false also once the connection ended.
func (c *relayConn) flush(src int) bool {
	h, dst := &c.halves[src], 1-src
	for len(h.pending) > 0 || (h.pipe != nil && h.pipe.n > 0) {
		if !c.canWrite[dst] {
			return false
		}
		var n int
		var err error
		if len(h.pending) > 0 {
			n, err = syscall.Write(c.fd[dst], h.pending)
			if n > 0 {
				h.pending = h.pending[n:]
			}
			if err == nil && len(h.pending) > 0 {
				err = syscall.EAGAIN // a short write: the send buffer is full
			}
			if len(h.pending) == 0 {
				h.pending = nil
			}
		} else {
			n, err = h.pipe.empty(c.fd[dst])
		}
		if n > 0 {
			h.bytes += int64(n)
		}
		switch {
		case err == syscall.EAGAIN:
			c.canWrite[dst] = false
			return false
		case err != nil && err != syscall.EINTR:
			c.fail(dst, err)
			return false
		}
	}
	return true
}

// passEOF passes src's FIN on (once everything before it was written) and ends
// the connection when both directions are done.
func (c *relayConn) passEOF(src int) bool {
	h := &c.halves[src]
	if !h.shut {
		h.shut = true
		if err := syscall.Shutdown(c.fd[1-src], syscall.SHUT_WR); err != nil && err != syscall.ENOTCONN {
			c.fail(1-src, err)
			return false
		}
	}
	if c.halves[1-src].shut {
		c.end()
		return false
	}
	return true
}

// fail ends the connection after err on side. A reset (or a write to a reset
// socket) is passed on to the other side as a reset.
func (c *relayConn) fail(side int, err error) {
	if err == syscall.ECONNRESET || err == syscall.EPIPE {
		resetOnClose(c.fd[1-side])
	}
	klog.V(5).InfoS("Relayed connection failed", "servicePort", c.ln.label, "side", side, "err", err)
	c.end()
}

// reject resets the client: no endpoint could be reached, as a REJECT would.
func (c *relayConn) reject() {
	resetOnClose(c.fd[sideClient])
	c.end()
}

// end closes both sockets and accounts for the connection. Ending an ended
// connection does nothing.
func (c *relayConn) end() {
	if c.state == stateEnded {
		return
	}
	relayed := c.state == stateRelaying
	c.state = stateEnded
	c.lp.dials.remove(c)
	for side, fd := range c.fd {
		if fd >= 0 {
			c.lp.forget(fd)
			_ = syscall.Close(fd)
			c.fd[side] = -1
		}
	}
	for i := range c.halves {
		if p := c.halves[i].pipe; p != nil {
			c.lp.pipes.put(p)
		}
		c.halves[i].pipe, c.halves[i].pending = nil, nil
	}
	if c.tracked {
		c.ln.pool.untrack(c.ep, c)
	}
	if relayed {
		c.ln.m.ended(c.halves[sideClient].bytes, c.halves[sideEndpoint].bytes)
	}
}

// dialState is a connection's progress through its dial attempts.
type dialState struct {
	attempt    int              // attempts started
	failed     []netip.AddrPort // endpoints that could not be reached
	at         time.Time        // the current attempt's deadline
	list       *dialList        // the deadline list the connection is on; nil when none
	prev, next *relayConn
}
