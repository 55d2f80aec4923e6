package userspace

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The TCP relay works on raw descriptors: a listening socket opened here, the
// sockets accept4 returns, and sockets dialed with a non-blocking connect.

// listenBacklog is the listening sockets' backlog: the kernel's somaxconn.
var listenBacklog = readSomaxconn()

// readSomaxconn returns net.core.somaxconn, or 4096 (the kernel's default).
func readSomaxconn() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 4096
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 4096
	}
	return n
}

// listenSocket opens a non-blocking TCP listening socket on bind:port (port 0:
// any free port) and returns it with the port it got. The sockets it accepts
// inherit its options (setListenerOptions).
func listenSocket(bind netip.Addr, port int) (fd, got int, err error) {
	fd, err = newSocket(bind)
	if err != nil {
		return -1, 0, err
	}
	defer func() {
		if err != nil {
			_ = syscall.Close(fd)
		}
	}()
	if err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return -1, 0, fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if bind.Is6() {
		if err = syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1); err != nil {
			return -1, 0, fmt.Errorf("IPV6_V6ONLY: %w", err)
		}
	}
	if err = setListenerOptions(fd); err != nil {
		return -1, 0, err
	}
	if err = syscall.Bind(fd, sockaddr(netip.AddrPortFrom(bind, uint16(port)))); err != nil {
		return -1, 0, fmt.Errorf("bind %s port %d: %w", bind, port, err)
	}
	if err = syscall.Listen(fd, listenBacklog); err != nil {
		return -1, 0, fmt.Errorf("listen: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return -1, 0, err
	}
	return fd, int(sockaddrAddrPort(sa).Port()), nil
}

// dialSocket starts a non-blocking connect to ep. The connection completes when
// the socket turns writable; SO_ERROR then tells whether it succeeded.
func dialSocket(ep netip.AddrPort) (int, error) {
	fd, err := newSocket(ep.Addr())
	if err != nil {
		return -1, err
	}
	if err := setDialedOptions(fd); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	err = syscall.Connect(fd, sockaddr(ep))
	if err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		_ = syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// newSocket returns a non-blocking TCP socket of a's family.
func newSocket(a netip.Addr) (int, error) {
	family := syscall.AF_INET
	if a.Is6() {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	return fd, nil
}

// sockaddr converts ap for the syscall package.
func sockaddr(ap netip.AddrPort) syscall.Sockaddr {
	if ap.Addr().Is4() {
		return &syscall.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &syscall.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

// socketError returns (and clears) the socket's pending error; nil when none.
func socketError(fd int) error {
	n, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return err
	}
	if n != 0 {
		return syscall.Errno(n)
	}
	return nil
}

// resetOnClose makes the next close of fd send a reset instead of a FIN.
func resetOnClose(fd int) {
	_ = syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
}
