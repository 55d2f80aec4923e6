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
// the other direction. The calling goroutine carries the endpoint's replies, a
// worker the client's data. bufs lends the buffers of small copies.
func relay(client, backend *net.TCPConn, bufs *bufPool, w *workers) (toEndpoint, toClient int64) {
	done := make(chan struct{})
	w.run(func() {
		toEndpoint = copyHalf(backend, client, bufs)
		close(done)
	})
	toClient = copyHalf(client, backend, bufs)
	<-done
	_ = client.Close()
	_ = backend.Close()
	return toEndpoint, toClient
}

// copyHalf copies src to dst until src's EOF, then half-closes dst. On an error it
// closes both, so that the other direction ends too; when src was reset, dst is
// reset as well, which also spares the proxy a TIME_WAIT socket.
func copyHalf(dst, src *net.TCPConn, bufs *bufPool) int64 {
	n, err := moveAll(dst, src, bufs)
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

// spliceMin is the least amount of queued data that is spliced rather than
// copied: below it, a read and a write through a borrowed buffer cost less than
// the two splice calls through a pipe.
const spliceMin = 16 << 10

// copyBuffer is the size of the buffers of small copies. A read that fills one
// switches the relay to splicing. A write waiting for a slow peer holds its
// buffer, so it is kept small: no more than a pipe would hold in the kernel.
const copyBuffer = spliceMin

// moveAll copies src to dst until src's EOF.
//
// Bulk data moves with (*net.TCPConn).ReadFrom(*net.TCPConn) — what io.Copy
// ends up calling — which on Linux uses splice(2) through a pipe, without
// copying it to user space. But ReadFrom holds a pipe (two descriptors and the
// kernel's pipe buffer table) for as long as it runs, idle time included, and a
// splice costs more than a copy of a few bytes. So moveAll waits, holding
// nothing, until src has data, and then either reads what is there into a
// borrowed buffer (copyBuffer bytes) and writes it (small messages: requests,
// replies, the start of a transfer), or, while a transfer keeps at least
// spliceMin bytes queued, splices exactly what is queued, which ReadFrom does
// without waiting, and gives the pipe back to Go's pool. An idle relayed
// connection holds its two sockets only.
func moveAll(dst, src *net.TCPConn, bufs *bufPool) (int64, error) {
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, err
	}
	lr := &io.LimitedReader{R: src} // spliceFrom unwraps a *LimitedReader of a *TCPConn
	var total int64
	bulk := false
	for {
		r, err := waitData(rc, bufs, bulk)
		if err != nil || r.eof() {
			return total, err
		}
		var n int64
		if r.buf != nil {
			var m int
			m, err = dst.Write((*r.buf)[:r.n])
			bufs.put(r.buf)
			n, bulk = int64(m), r.n >= spliceMin
		} else {
			lr.N = int64(r.queued)
			n, err = dst.ReadFrom(lr)
		}
		total += n
		if err != nil {
			return total, err
		}
	}
}

// ready is what waitData found: data read into buf (n bytes), or queued bytes
// to splice, or neither: EOF.
type ready struct {
	buf    *[]byte
	n      int
	queued int
}

func (r ready) eof() bool { return r.buf == nil && r.queued == 0 }

// waitData waits until the socket has data or reached EOF. When bulk is set (the
// last read filled its buffer, or the last round spliced) it first asks the kernel how much is queued
// (SIOCINQ) and returns that for splicing if it is at least spliceMin. Otherwise
// it reads what is there into a buffer borrowed from bufs, which the caller
// returns; the buffer goes back at once when there is nothing to read yet.
func waitData(rc syscall.RawConn, bufs *bufPool, bulk bool) (ready, error) {
	var r ready
	var serr error
	err := rc.Read(func(fd uintptr) bool {
		if bulk {
			q, err := inq(int(fd))
			if err != nil || q >= spliceMin {
				r.queued, serr = q, err
				return true
			}
		}
		b := bufs.get()
		for {
			n, err := syscall.Read(int(fd), *b)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				bufs.put(b)
				bulk = false
				return false // wait in the poller, holding nothing
			case err != nil:
				bufs.put(b)
				serr = err
			case n == 0: // EOF
				bufs.put(b)
			default:
				r.buf, r.n = b, n
			}
			return true
		}
	})
	if err != nil {
		return ready{}, err
	}
	return r, serr
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
