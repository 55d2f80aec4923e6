package userspacee2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// heldConn is an open connection to the echo server through kproxy.
type heldConn struct {
	conn net.Conn
	r    *bufio.Reader
	// pod answered the connection.
	pod string
}

// greet reads the echo server's greeting and notes the pod it names.
func (h *heldConn) greet() error {
	greeting, err := h.r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	h.pod, _, err = traffic.ParseReply(greeting)
	return err
}

// echo sends msg and a newline and reads them back, within timeout.
func (h *heldConn) echo(msg string, timeout time.Duration) error {
	if err := h.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	line := msg + "\n"
	if _, err := io.WriteString(h.conn, line); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	got, err := h.r.ReadString('\n')
	if err != nil || got != line {
		return fmt.Errorf("echo of %q: got %q (%v)", line, got, err)
	}
	return h.conn.SetDeadline(time.Time{})
}

// heldConns are TCP connections opened together and kept open.
type heldConns struct {
	conns []*heldConn
	// pods counts the answered connections per answering pod.
	pods map[string]int
	// errs are the failures, one per connection not answered.
	errs []error
}

// holdConns opens n connections to addr from namespace ns with dialers
// concurrent dialers, and on each reads the echo server's greeting and has
// a line echoed. It returns once every connection is answered or failed, or
// wait has passed; the answered connections stay open.
func holdConns(ns string, addr netip.AddrPort, n, dialers int, wait time.Duration) *heldConns {
	deadline := time.Now().Add(wait)
	conns := make([]*heldConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range dialers {
		wg.Go(func() {
			err := netns.Do(ns, func() error {
				for i := w; i < n; i += dialers {
					c, err := (&net.Dialer{Deadline: deadline}).Dial("tcp", addr.String())
					if err != nil {
						errs[i] = err
						continue
					}
					conns[i] = &heldConn{conn: c, r: bufio.NewReader(c)}
					// Reading needs no namespace: another thread may do it.
					wg.Go(func() { errs[i] = conns[i].answer(i, deadline) })
				}
				return nil
			})
			if err != nil {
				for i := w; i < n; i += dialers {
					errs[i] = err
				}
			}
		})
	}
	wg.Wait()
	h := &heldConns{pods: map[string]int{}}
	for i, c := range conns {
		switch {
		case errs[i] != nil:
			h.errs = append(h.errs, errs[i])
			if c != nil {
				c.conn.Close()
			}
		default:
			h.conns = append(h.conns, c)
			h.pods[c.pod]++
		}
	}
	return h
}

// answer reads the greeting, then has a line naming connection i echoed,
// all before deadline.
func (h *heldConn) answer(i int, deadline time.Time) error {
	if err := h.conn.SetDeadline(deadline); err != nil {
		return err
	}
	if err := h.greet(); err != nil {
		return err
	}
	return h.echo(fmt.Sprintf("connection %d", i), time.Until(deadline))
}

// answered is the number of connections held open.
func (h *heldConns) answered() int { return len(h.conns) }

// close closes every held connection; closing twice does nothing.
func (h *heldConns) close() {
	for _, c := range h.conns {
		c.conn.Close()
	}
	h.conns = nil
}
