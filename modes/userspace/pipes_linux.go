package userspace

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pipe carries spliced data from one socket to another without copying it to
// user space: splice(2) moves it from the source socket into the pipe and from
// the pipe into the destination socket. n bytes are in it.
type pipe struct {
	r, w int
	n    int
}

// pipePool keeps a loop's unused pipes. A relay borrows one while a transfer
// moves bulk data and gives it back once the pipe is empty and the source has
// nothing more to read, so that idle connections hold no pipe.
type pipePool struct{ free []*pipe }

// copyBuffer is the size of a loop's buffer for small copies. A read that fills
// it switches its direction of the connection to splicing until the source
// runs dry.
const copyBuffer = 16 << 10

// maxFreePipes is how many unused pipes a loop keeps.
const maxFreePipes = 16

// spliceFlags lets splice move pages instead of copying them, without waiting.
const spliceFlags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK

// get returns an empty pipe.
func (pp *pipePool) get() (*pipe, error) {
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		return p, nil
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		return nil, err
	}
	_, _ = unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, pipeSize)
	return &pipe{r: fds[0], w: fds[1]}, nil
}

// put takes back a pipe; one that still holds data is closed.
func (pp *pipePool) put(p *pipe) {
	if p.n != 0 || len(pp.free) >= maxFreePipes {
		p.close()
		return
	}
	pp.free = append(pp.free, p)
}

// drain closes every unused pipe.
func (pp *pipePool) drain() {
	for _, p := range pp.free {
		p.close()
	}
	pp.free = nil
}

func (p *pipe) close() {
	_ = syscall.Close(p.r)
	_ = syscall.Close(p.w)
}

// fill splices up to max bytes from the socket src into the pipe.
func (p *pipe) fill(src, max int) (int, error) {
	n, err := syscall.Splice(src, nil, p.w, nil, max, spliceFlags)
	if n > 0 {
		p.n += int(n)
	}
	return int(n), err
}

// empty splices the pipe's data into the socket dst, as much as it takes.
func (p *pipe) empty(dst int) (int, error) {
	n, err := syscall.Splice(p.r, nil, dst, nil, p.n, spliceFlags)
	if n > 0 {
		p.n -= int(n)
	}
	return int(n), err
}

// pipeSize is the capacity asked for each pipe (the kernel's default is 64 KiB).
const pipeSize = 1 << 20
