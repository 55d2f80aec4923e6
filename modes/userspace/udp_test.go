package userspace

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

var dns = spName("ns", "dns", v1.ProtocolUDP)

// exchange sends msg from c and returns the reply.
func exchange(t *testing.T, c *net.UDPConn, msg string) string {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply to %q: %v", msg, err)
	}
	return string(buf[:n])
}

// udpClient returns a UDP socket connected to addr.
func udpClient(t *testing.T, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUDPRequestReply(t *testing.T) {
	a, bb := startUDPServer(t, "127.0.0.1", "a"), startUDPServer(t, "127.0.0.2", "b")
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(dns, "172.30.0.53", []netip.AddrPort{a.addr, bb.addr})), full)
	addr := b.addr(t, dns)
	one, two := udpClient(t, addr), udpClient(t, addr)
	// Each client is a session stuck to one endpoint; sessions go round robin.
	for i := range 3 {
		if got := exchange(t, one, "q1"); got != "a:q1" {
			t.Errorf("client one, datagram %d: reply %q, want a:q1", i, got)
		}
		if got := exchange(t, two, "q2"); got != "b:q2" {
			t.Errorf("client two, datagram %d: reply %q, want b:q2", i, got)
		}
	}
	l := b.services[dns].internal
	if n := l.openConns(); n != 2 {
		t.Errorf("%d sessions, want 2", n)
	}
}

func TestUDPSessionsExpire(t *testing.T) {
	a, bb := startUDPServer(t, "127.0.0.1", "a"), startUDPServer(t, "127.0.0.2", "b")
	b := newTestBackend(t, func(o *Options) { o.UDPIdleTimeout = 100 * time.Millisecond })
	b.sync(t, snapshot(newService(dns, "172.30.0.53", []netip.AddrPort{a.addr, bb.addr})), full)
	c := udpClient(t, b.addr(t, dns))
	if got := exchange(t, c, "x"); !strings.HasPrefix(got, "a:") {
		t.Fatalf("first reply %q, want from a", got)
	}
	l := b.services[dns].internal
	eventually(t, "the idle session to expire", func() bool { return l.openConns() == 0 })
	// A new session is a new pick: round robin moves on.
	if got := exchange(t, c, "y"); !strings.HasPrefix(got, "b:") {
		t.Errorf("reply after expiry %q, want from b", got)
	}
}

func TestUDPExpiry(t *testing.T) {
	const timeout = 250 * time.Millisecond
	cases := []struct {
		name string
		idle []time.Duration // how long ago each session was last active
		want []bool          // which are left
		more bool
	}{
		{"fresh sessions stay", []time.Duration{0, 100 * time.Millisecond}, []bool{true, true}, true},
		{"a session idle for the timeout ends", []time.Duration{timeout, 249 * time.Millisecond}, []bool{false, true}, true},
		{"the last session ending stops the sweeper", []time.Duration{time.Second}, []bool{false}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
			srv := startUDPServer(t, "127.0.0.1", "a")
			b := newTestBackend(t, func(o *Options) { o.Clock, o.UDPIdleTimeout = clk, timeout })
			b.sync(t, snapshot(newService(dns, "172.30.0.53", []netip.AddrPort{srv.addr})), full)
			l := b.services[dns].internal.(*udpListener)
			var sessions []*udpSession
			for range tc.idle {
				exchange(t, udpClient(t, b.addr(t, dns)), "hi")
			}
			l.mu.Lock()
			for _, s := range l.sessions {
				sessions = append(sessions, s)
			}
			l.mu.Unlock()
			now := clk.Now()
			for i, s := range sessions {
				s.last.Store(now.Add(-tc.idle[i]).UnixNano())
			}
			if more := l.expire(now); more != tc.more {
				t.Errorf("expire reported more=%v, want %v", more, tc.more)
			}
			for i, s := range sessions {
				if left := !s.closed.Load(); left != tc.want[i] {
					t.Errorf("session idle for %v: left=%v, want %v", tc.idle[i], left, tc.want[i])
				}
			}
		})
	}
}

func TestUDPEndpointRemovedEndsItsSessions(t *testing.T) {
	a, bb := startUDPServer(t, "127.0.0.1", "a"), startUDPServer(t, "127.0.0.2", "b")
	b := newTestBackend(t, func(o *Options) { o.UDPIdleTimeout = time.Hour })
	b.sync(t, snapshot(newService(dns, "172.30.0.53", []netip.AddrPort{a.addr, bb.addr})), full)
	c := udpClient(t, b.addr(t, dns))
	if got := exchange(t, c, "x"); got != "a:x" {
		t.Fatalf("reply %q, want a:x", got)
	}
	b.sync(t, snapshot(newService(dns, "172.30.0.53", []netip.AddrPort{bb.addr})), changed(dns))
	if got := exchange(t, c, "y"); got != "b:y" {
		t.Errorf("reply after a's removal %q, want b:y", got)
	}
}
