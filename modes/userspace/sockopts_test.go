package userspace

import (
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestSocketOptions checks the options of both sides of a relayed connection:
// accepted sockets inherit keep-alive, the send buffer and TCP_NODELAY from the
// listener (nothing is set on them one by one), dialed ones get the send buffer
// and TCP_NODELAY but no keep-alive.
func TestSocketOptions(t *testing.T) {
	lfd, port, err := listenSocket(netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(lfd)
	dialed, err := dialSocket(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(dialed)
	accepted := acceptWithin(t, lfd, time.Second)
	defer syscall.Close(accepted)

	// Linux reports twice the SO_SNDBUF it was given (its bookkeeping share).
	for _, tc := range []struct {
		side string
		fd   int
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
		for _, o := range tc.want {
			got, gerr := syscall.GetsockoptInt(tc.fd, o.level, o.opt)
			if gerr != nil || got != o.value {
				t.Errorf("%s socket: option %d/%d is %d (%v), want %d", tc.side, o.level, o.opt, got, gerr, o.value)
			}
		}
	}
}

// acceptWithin accepts a connection from the non-blocking listening socket lfd.
func acceptWithin(t *testing.T, lfd int, limit time.Duration) int {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(time.Millisecond) {
		fd, _, err := syscall.Accept4(lfd, syscall.SOCK_CLOEXEC)
		if err == nil {
			return fd
		}
		if err != syscall.EAGAIN {
			t.Fatal(err)
		}
	}
	t.Fatal("no connection to accept")
	return -1
}
