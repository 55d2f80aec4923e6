package userspace

import (
	"errors"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// errDialTimeout is why an attempt that got no answer in time failed.
var errDialTimeout = errors.New("connect timed out")

// dialNext starts the next attempt to reach an endpoint (kube-proxy's
// escalating timeouts: one attempt per timeout), or resets the client when
// there is no endpoint or every attempt failed. After a failure the next
// attempt ignores and replaces the client's affinity and goes to the next
// endpoint round robin that this connection has not failed to reach.
func (c *relayConn) dialNext() {
	timeouts := c.ln.dialer.timeouts
	for c.dial.attempt < len(timeouts) {
		ep, ok := c.ln.pool.pick(c.client, c.dial.failed)
		if !ok {
			klog.V(4).InfoS("No endpoint for connection", "servicePort", c.ln.label, "client", c.client)
			break
		}
		timeout := timeouts[c.dial.attempt]
		c.dial.attempt++
		fd, err := dialSocket(ep)
		if err == nil {
			if err = c.lp.register(fd, relayEvents, fdEntry{kind: kindSide, conn: c, side: sideEndpoint}); err != nil {
				_ = syscall.Close(fd)
			}
		}
		if err == nil {
			c.fd[sideEndpoint], c.ep = fd, ep
			c.canRead[sideEndpoint], c.canWrite[sideEndpoint] = false, false
			c.lp.dials.add(c, c.lp.clock().Add(timeout), timeout)
			c.lp.armDials()
			return
		}
		c.dial.failed = attemptFailed(c.ln.m, c.ln.label, c.dial.failed, ep, timeout, err)
	}
	c.reject()
}

// dialDone handles an event on the endpoint's socket during the dial: it
// became writable (connected) or failed.
func (c *relayConn) dialDone() {
	if err := socketError(c.fd[sideEndpoint]); err != nil {
		c.abandonDial(err)
		return
	}
	if !c.canWrite[sideEndpoint] {
		return
	}
	c.lp.dials.remove(c)
	c.startRelaying()
}

// abandonDial closes the socket of a failed attempt and starts the next one.
func (c *relayConn) abandonDial(err error) {
	c.lp.dials.remove(c)
	fd := c.fd[sideEndpoint]
	c.lp.forget(fd)
	_ = syscall.Close(fd)
	c.fd[sideEndpoint] = -1
	c.dial.failed = attemptFailed(c.ln.m, c.ln.label, c.dial.failed, c.ep, c.ln.dialer.timeouts[c.dial.attempt-1], err)
	c.dialNext()
}

// dialLists hold the connections being dialed by deadline: one list per
// timeout, each in the order of its deadlines since every attempt on it
// waits the same time. A connection leaves its list in constant time when its
// dial ends.
type dialLists struct {
	lists []*dialList
}

// dialList is the connections of one timeout, earliest deadline first.
type dialList struct {
	timeout    time.Duration
	head, tail *relayConn
}

// add puts c at the end of timeout's list.
func (d *dialLists) add(c *relayConn, at time.Time, timeout time.Duration) {
	var l *dialList
	for _, cand := range d.lists {
		if cand.timeout == timeout {
			l = cand
		}
	}
	if l == nil {
		l = &dialList{timeout: timeout}
		d.lists = append(d.lists, l)
	}
	c.dial.at, c.dial.list, c.dial.prev, c.dial.next = at, l, l.tail, nil
	if l.tail != nil {
		l.tail.dial.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

// remove takes c off its list, if it is on one.
func (d *dialLists) remove(c *relayConn) {
	l := c.dial.list
	if l == nil {
		return
	}
	if c.dial.prev != nil {
		c.dial.prev.dial.next = c.dial.next
	} else {
		l.head = c.dial.next
	}
	if c.dial.next != nil {
		c.dial.next.dial.prev = c.dial.prev
	} else {
		l.tail = c.dial.prev
	}
	c.dial.list, c.dial.prev, c.dial.next = nil, nil, nil
}

// earliest returns the earliest deadline; zero when nothing is being dialed.
func (d *dialLists) earliest() time.Time {
	var t time.Time
	for _, l := range d.lists {
		if l.head != nil && (t.IsZero() || l.head.dial.at.Before(t)) {
			t = l.head.dial.at
		}
	}
	return t
}

// due returns a connection whose deadline is not after now, or nil.
func (d *dialLists) due(now time.Time) *relayConn {
	for _, l := range d.lists {
		if l.head != nil && !l.head.dial.at.After(now) {
			return l.head
		}
	}
	return nil
}

// checkDials abandons the attempts whose deadline passed, if the armed one
// has. A loop that never waits (events keep coming) checks after every batch.
func (l *loop) checkDials() {
	if l.armed.IsZero() {
		return
	}
	if now := l.clock(); !now.Before(l.armed) {
		l.expireDials(now)
	}
}

// expireDials abandons the attempts whose deadline is not after now and arms
// the next deadline (none when nothing is being dialed).
func (l *loop) expireDials(now time.Time) {
	for c := l.dials.due(now); c != nil; c = l.dials.due(now) {
		c.abandonDial(errDialTimeout)
	}
	l.armed = l.dials.earliest()
	_ = l.poll.SetReadDeadline(l.armed)
}

// armDials makes the loop wake up by the earliest dial deadline. A deadline
// that moved later (its dial ended) is left armed: waking up early costs one
// look at the lists.
func (l *loop) armDials() {
	next := l.dials.earliest()
	if next.IsZero() || (!l.armed.IsZero() && !next.Before(l.armed)) {
		return
	}
	l.armed = next
	_ = l.poll.SetReadDeadline(next)
}
