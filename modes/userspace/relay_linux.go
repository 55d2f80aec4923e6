package userspace

import (
	"errors"
	"io"
	"net"
	"syscall"
	"unsafe"
)

// relay copies between client and backend in both directions until both are
// done, then closes both, and returns the bytes sent each way. An EOF on one side
// is passed on as a half-close (FIN) to the other, which may keep sending; a
// reset is passed on as a reset; any other error closes both sides, which ends
// the other direction.
func relay(client, backend *net.TCPConn) (toEndpoint, toClient int64) {
	done := make(chan struct{})
	go func() {
		toEndpoint = copyHalf(backend, client)
		close(done)
	}()
	toClient = copyHalf(client, backend)
	<-done
	_ = client.Close()
	_ = backend.Close()
	return toEndpoint, toClient
}

// copyHalf copies src to dst until src's EOF, then half-closes dst. On an error it
// closes both, so that the other direction ends too; when src was reset, dst is
// reset as well, which also spares the proxy a TIME_WAIT socket.
func copyHalf(dst, src *net.TCPConn) int64 {
	n, err := spliceAll(dst, src)
	if err == nil {
		err = dst.CloseWrite()
	}
	if err != nil {
		if errors.Is(err, syscall.ECONNRESET) {
			_ = dst.SetLinger(0)
		}
		_ = dst.Close()
		_ = src.Close()
	}
	return n
}

// spliceAll copies src to dst until src's EOF.
//
// The data moves with (*net.TCPConn).ReadFrom(*net.TCPConn) — what io.Copy
// ends up calling — which on Linux uses splice(2) through a pipe, without
// copying it to user space. But ReadFrom holds a pipe (two descriptors and the
// kernel's pipe buffer table) for as long as it runs, idle time included. So
// spliceAll first waits, holding nothing, until src has data, then splices
// exactly what is queued, which ReadFrom does without waiting, and gives the
// pipe back to Go's pool: an idle relayed connection holds its two sockets only.
func spliceAll(dst, src *net.TCPConn) (int64, error) {
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	lr := &io.LimitedReader{R: src} // spliceFrom unwraps a *LimitedReader of a *TCPConn
	var total int64
	for {
		queued, err := waitData(rc)
		if err != nil || queued == 0 {
			return total, err
		}
		lr.N = int64(queued)
		n, err := dst.ReadFrom(lr)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// waitData waits until the socket has data or reached EOF, and returns how many
// bytes are queued: 0 means EOF.
func waitData(rc syscall.RawConn) (int, error) {
	var queued int
	var serr error
	err := rc.Read(func(fd uintptr) bool {
		queued, serr = inq(int(fd))
		if serr != nil || queued > 0 {
			return true
		}
		// Nothing queued: EOF, an error, or nothing yet.
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			return false // wait in the poller
		case err != nil:
			serr = err
		case n > 0: // data arrived between the two calls
			queued, serr = inq(int(fd))
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	return queued, serr
}

// inq returns how many bytes the socket's receive queue holds (SIOCINQ).
func inq(fd int) (int, error) {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocinq, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
