package userspace

import (
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// tcpListener relays the TCP connections of one listening socket. The socket
// is watched by every relay loop; the loop that accepts a connection relays it.
type tcpListener struct {
	relayBase
	fd      int // the listening socket
	loops   []*loop
	closing atomic.Bool
}

// listenEvents are what a listening socket is watched for: level-triggered, so
// that a connection left in the backlog brings the next event. With several
// loops, EPOLLEXCLUSIVE asks the kernel to wake one of them per connection;
// through Go's poller, which watches the loops' epoll descriptors, another may
// wake too and find the backlog empty (EAGAIN, ignored).
func listenEvents(loops int) uint32 {
	if loops > 1 {
		return unix.EPOLLIN | unix.EPOLLEXCLUSIVE
	}
	return syscall.EPOLLIN
}

// acceptPause is how long a loop stops accepting from a listener after an
// error such as running out of file descriptors; the connections wait in the
// backlog.
const acceptPause = 100 * time.Millisecond

// start makes every loop accept the listener's connections.
func (ln *tcpListener) start() {
	for _, l := range ln.loops {
		l.post(func() { ln.watch(l) })
	}
}

// watch registers the listening socket with l, unless the listener is closing.
func (ln *tcpListener) watch(l *loop) {
	if ln.closing.Load() {
		return
	}
	if err := l.register(ln.fd, listenEvents(len(ln.loops)), fdEntry{kind: kindListener, ln: ln}); err != nil {
		klog.ErrorS(err, "Cannot watch a listener", "servicePort", ln.label, "port", ln.portN)
	}
}

// acceptOne accepts a connection and starts dialing its endpoint. One per
// event: another waiting connection brings the next.
func (ln *tcpListener) acceptOne(l *loop, fd int) {
	nfd, sa, err := syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	if err != nil {
		ln.acceptFailed(l, err)
		return
	}
	c := &relayConn{ln: ln, lp: l, fd: [2]int{nfd, -1}, client: sockaddrAddrPort(sa).Addr()}
	if err := l.register(nfd, relayEvents, fdEntry{kind: kindSide, conn: c, side: sideClient}); err != nil {
		klog.ErrorS(err, "Cannot watch an accepted connection", "servicePort", ln.label)
		_ = syscall.Close(nfd)
		return
	}
	c.dialNext()
}

// acceptFailed handles a failed accept. Errors that concern one connection
// only are ignored; on others (out of descriptors or memory) the loop stops
// accepting from this listener for acceptPause.
func (ln *tcpListener) acceptFailed(l *loop, err error) {
	switch err {
	case syscall.EAGAIN, syscall.EINTR, syscall.ECONNABORTED, syscall.EPERM, syscall.EPROTO:
		return
	}
	klog.ErrorS(err, "Accepting a connection failed", "servicePort", ln.label, "port", ln.portN, "pause", acceptPause)
	l.deregister(ln.fd)
	time.AfterFunc(acceptPause, func() { l.post(func() { ln.watch(l) }) })
}

// close stops accepting, closes the listening socket and every connection.
// Connections still being dialed end when their dial does: the pool no longer
// takes them.
func (ln *tcpListener) close() {
	ln.closing.Store(true)
	ln.cancel()
	for _, l := range ln.loops {
		l.call(func() { l.deregister(ln.fd) })
	}
	_ = syscall.Close(ln.fd)
	closeAll(ln.pool.close())
}
