package userspace

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestSocketOptions checks the options of both sides of a relayed connection:
// accepted sockets inherit keep-alive and the send buffer from the listener
// (nothing is set on them one by one), dialed ones get the send buffer only and
// no keep-alive.
func TestSocketOptions(t *testing.T) {
	ln, port, err := listenTCP("tcp4", netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	dialed, err := dialEndpoint(context.Background(), "tcp4", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer dialed.Close()
	accepted, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()

	// Linux reports twice the SO_SNDBUF it was given (its bookkeeping share).
	for _, tc := range []struct {
		side string
		conn net.Conn
		want []sockopt
	}{
		{"accepted", accepted, []sockopt{
			{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15},
			{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 9},
			{syscall.SOL_SOCKET, syscall.SO_SNDBUF, 2 * relaySendBuffer},
			{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
		}},
		{"dialed", dialed, []sockopt{
			{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 0},
			{syscall.SOL_SOCKET, syscall.SO_SNDBUF, 2 * relaySendBuffer},
			{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
		}},
	} {
		rc, err := tc.conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range tc.want {
			var got int
			var gerr error
			_ = rc.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), o.level, o.opt) })
			if gerr != nil || got != o.value {
				t.Errorf("%s socket: option %d/%d is %d (%v), want %d", tc.side, o.level, o.opt, got, gerr, o.value)
			}
		}
	}
}
