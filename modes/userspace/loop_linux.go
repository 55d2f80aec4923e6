package userspace

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// loop relays TCP connections without a goroutine per connection: one
// goroutine waits for the events of many sockets in an epoll instance of its
// own and moves data with non-blocking system calls. A connection through a
// goroutine-per-direction relay costs two goroutine wake-ups per message and
// Go's own bookkeeping per socket (poller registration, address lookups, socket
// options); here it costs the system calls that move the data.
//
// The epoll descriptor is itself registered with Go's poller, so the loop's
// goroutine sleeps like any other goroutine waiting for a socket, and the
// earliest dial deadline is the read deadline of that wait. Every socket is
// registered level-triggered with the events its relay currently wants.
//
// Only the loop's goroutine touches its sockets. Other goroutines hand it work
// with post; a listener's listening socket is registered with every loop
// (EPOLLEXCLUSIVE), so that the loops share its connections.
type loop struct {
	epfd  int
	poll  *os.File // epfd, for Go's poller
	rc    syscall.RawConn
	wake  int // eventfd that post writes to
	clock func() time.Time

	mu      sync.Mutex
	queued  []func() // posted work
	stopped bool     // set under mu by stop; posted work is then refused

	// The rest belongs to the loop's goroutine.
	fds     []fdEntry // by descriptor number
	gen     uint32    // generation of the last registration
	events  []syscall.EpollEvent
	dials   dialLists
	armed   time.Time // the poll's read deadline; zero when none
	scratch []byte    // small copies pass through it
	pipes   pipePool
	done    chan struct{}
}

// fdKind tells what a registered descriptor is.
type fdKind uint8

const (
	kindWake     fdKind = iota + 1 // the loop's eventfd
	kindListener                   // a listening socket
	kindSide                       // one side of a relayed connection
)

// fdEntry is what the loop knows about a registered descriptor. gen tells
// events meant for an earlier registration of the same number apart.
type fdEntry struct {
	kind fdKind
	gen  uint32
	ln   *tcpListener
	conn *relayConn
	side int
}

// maxEvents is how many events one epoll_wait returns at most.
const maxEvents = 256

// newLoop creates a loop; run runs it.
func newLoop() (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		err = fmt.Errorf("eventfd: %w", err)
		_ = syscall.Close(epfd)
		return nil, err
	}
	l := &loop{epfd: epfd, wake: wake, clock: time.Now, events: make([]syscall.EpollEvent, maxEvents),
		scratch: make([]byte, copyBuffer), done: make(chan struct{})}
	if err := l.register(wake, syscall.EPOLLIN, fdEntry{kind: kindWake}); err != nil {
		l.closeFDs()
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		l.closeFDs()
		return nil, err
	}
	l.poll = os.NewFile(uintptr(epfd), "epoll")
	if l.rc, err = l.poll.SyscallConn(); err != nil {
		l.closeFDs()
		return nil, err
	}
	return l, nil
}

// closeFDs closes the loop's own descriptors.
func (l *loop) closeFDs() {
	_ = syscall.Close(l.wake)
	if l.poll != nil {
		_ = l.poll.Close()
		return
	}
	_ = syscall.Close(l.epfd)
}

// post hands f to the loop's goroutine. It returns false, dropping f, once the
// loop has stopped.
func (l *loop) post(f func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return false
	}
	l.queued = append(l.queued, f)
	if len(l.queued) == 1 {
		l.wakeUp()
	}
	return true
}

// wakeUp makes the loop's epoll instance report its eventfd. l.mu must be
// held and the loop not stopped, so that the eventfd is still open: a closed
// descriptor's number may belong to another file by now.
func (l *loop) wakeUp() {
	one := [8]byte{1}
	_, _ = syscall.Write(l.wake, one[:])
}

// call runs f on the loop's goroutine and waits for it. It returns false when
// the loop has stopped and f did not run.
func (l *loop) call(f func()) bool {
	ran := make(chan struct{})
	if !l.post(func() { f(); close(ran) }) {
		return false
	}
	select {
	case <-ran:
		return true
	case <-l.done:
		return false
	}
}

// stop ends the loop: its connections are closed, then its goroutine returns.
func (l *loop) stop() {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		l.wakeUp()
	}
	l.mu.Unlock()
	<-l.done
}

// run waits for events and handles them until stop.
func (l *loop) run() {
	defer close(l.done)
	defer func() {
		l.mu.Lock()
		l.stopped = true // no more posts: the eventfd closes
		l.closeFDs()
		l.mu.Unlock()
	}()
	for {
		var finished bool
		err := l.rc.Read(func(uintptr) bool {
			finished = l.handleReady()
			return finished
		})
		if finished {
			l.closeAll()
			return
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			l.expireDials(l.clock())
		case err != nil:
			klog.ErrorS(err, "Waiting for relayed sockets failed; closing their connections")
			l.closeAll()
			return
		}
	}
}

// handleReady handles every event the epoll instance holds and returns
// whether the loop was stopped. It returns only when no event is left: the
// poll is edge-triggered for Go's poller, so an event left unread could go
// unnoticed.
func (l *loop) handleReady() bool {
	for {
		n, err := syscall.EpollWait(l.epfd, l.events, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			klog.ErrorS(err, "epoll_wait failed")
			return true
		}
		for i := range n {
			l.dispatch(l.events[i])
		}
		if l.isStopped() {
			return true
		}
		l.checkDials()
		if n <= 0 {
			return false
		}
	}
}

func (l *loop) isStopped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

// dispatch hands one event to what registered the descriptor.
func (l *loop) dispatch(ev syscall.EpollEvent) {
	fd := int(ev.Fd)
	if fd >= len(l.fds) || l.fds[fd].gen != uint32(ev.Pad) {
		return // meant for a descriptor closed since
	}
	e := l.fds[fd]
	switch e.kind {
	case kindWake:
		l.runPosted()
	case kindListener:
		e.ln.acceptOne(l, fd)
	case kindSide:
		e.conn.handle(e.side, ev.Events)
	}
}

// runPosted runs the work other goroutines posted.
func (l *loop) runPosted() {
	var buf [8]byte
	_, _ = syscall.Read(l.wake, buf[:])
	l.mu.Lock()
	work := l.queued
	l.queued = nil
	l.mu.Unlock()
	for _, f := range work {
		f()
	}
}

// register adds fd to the epoll instance with events.
func (l *loop) register(fd int, events uint32, e fdEntry) error {
	l.gen++
	e.gen = l.gen
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(e.gen)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	for fd >= len(l.fds) {
		l.fds = append(l.fds, fdEntry{})
	}
	l.fds[fd] = e
	return nil
}

// modify changes the events fd is watched for.
func (l *loop) modify(fd int, events uint32) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(l.fds[fd].gen)}
	return syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
}

// forget drops fd's registration; closing fd ends its epoll registration.
func (l *loop) forget(fd int) {
	if fd < len(l.fds) {
		l.fds[fd] = fdEntry{}
	}
}

// deregister removes fd from the epoll instance, leaving it open.
func (l *loop) deregister(fd int) {
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	l.forget(fd)
}

// closeAll closes every connection the loop relays or dials.
func (l *loop) closeAll() {
	for fd := range l.fds {
		if e := l.fds[fd]; e.kind == kindSide {
			e.conn.end()
		}
	}
	l.pipes.drain()
}
