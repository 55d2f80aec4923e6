package userspace

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Socket options of relayed connections. Each option set on a new connection
// is a system call on the path of every connection, so the proxy sets as few as
// it can, and sets what the accepted sockets need on the listening socket
// instead: Linux copies a listener's options to every socket accept returns.
//
//   - Keep-alive (idle 15 s, then 9 probes 15 s apart: package net's default,
//     which kube-proxy's old mode got) is set on the listener. It notices a
//     client that vanished without closing, which would otherwise hold its relay
//     and its endpoint connection for ever. Sockets dialed to endpoints get none:
//     an endpoint that vanishes is removed from the service and its connections
//     are then closed (see pool.update).
//   - The send buffer of both sides is fixed at relaySendBuffer (see there).
//   - Both sides send small writes at once (TCP_NODELAY, as package net does):
//     the relay passes on each message as it comes.
//   - Dialed sockets are not bound before connecting, so the kernel picks their
//     source port knowing the destination and can use one port towards several
//     endpoints (a bind to port 0 reserves a port per connection).

// Keep-alive settings of accepted connections, as package net's defaults.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// relaySendBuffer is the send buffer (SO_SNDBUF; the kernel doubles it for its
// own bookkeeping) of the proxy's sockets, instead of the kernel's autotuning up
// to net.ipv4.tcp_wmem's maximum (4 MiB by default). Data spliced from one
// socket to the other stays referenced in the send queue until the peer
// acknowledges it. With megabytes queued, more pages are in flight than the CPU
// caches hold, so the client's writes and the endpoint's reads copy to and from
// cold memory: on loopback a steady transfer through the proxy cost 2.1 times
// the CPU of a direct one (720–755 against 290–380 µs/MiB), 1.8 times with a
// 256 KiB buffer, 1.3 times with 128 KiB or 64 KiB. The price is a ceiling on
// one connection's throughput of the buffer per round trip: about 1–2 Gbit/s at
// 1 ms, 10–20 Gbit/s at 100 µs (computed, not measured), where the proxy relays
// at most a few Gbit/s per core.
const relaySendBuffer = 128 << 10

// setListenerOptions sets the options of the connections a listener will
// accept.
func setListenerOptions(fd int) error {
	return setInts(fd, []sockopt{
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, int(keepAliveIdle / time.Second)},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, int(keepAliveInterval / time.Second)},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAliveCount},
		{syscall.SOL_SOCKET, syscall.SO_SNDBUF, relaySendBuffer},
		{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
	})
}

// setDialedOptions sets the options of a socket dialed to an endpoint.
func setDialedOptions(fd int) error {
	return setInts(fd, []sockopt{
		{syscall.SOL_SOCKET, syscall.SO_SNDBUF, relaySendBuffer},
		{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
	})
}

// sockopt is one integer socket option.
type sockopt struct{ level, opt, value int }

// setInts sets options on fd in order, stopping at the first error.
func setInts(fd int, opts []sockopt) error {
	for _, o := range opts {
		if err := syscall.SetsockoptInt(fd, o.level, o.opt, o.value); err != nil {
			return err
		}
	}
	return nil
}

// dialEndpoint connects a UDP socket to ep within timeout (or until ctx ends),
// without binding first.
func dialEndpoint(ctx context.Context, network string, ep netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.DialContext(ctx, network, ep.String())
}
