package userspace

import (
	"errors"
	"fmt"
	"syscall"
)

// errPortsExhausted is returned when every port of the range is taken.
var errPortsExhausted = errors.New("every port of --proxy-port-range is taken")

// portAllocator hands out listener ports from --proxy-port-range. Candidates are
// tried in turn from just after the last port handed out, so a released port is
// reused as late as possible (stale rules or conntrack entries may still point at
// it). Ports held by other programs are skipped. Without a range, the kernel picks.
// It is not safe for concurrent use.
type portAllocator struct {
	base, size int
	used       map[int]struct{}
	next       int // offset of the next candidate
}

// newPortAllocator returns an allocator over r.
func newPortAllocator(r PortRange) *portAllocator {
	return &portAllocator{base: r.Base, size: r.Size, used: map[int]struct{}{}}
}

// allocate calls bind with candidate ports until one succeeds and returns the port
// bind reports it got. Without a range bind is called once with port 0. A
// candidate failing with EADDRINUSE is skipped; any other error is returned.
func (a *portAllocator) allocate(bind func(port int) (int, error)) (int, error) {
	if a.base == 0 {
		return bind(0)
	}
	for i := 0; i < a.size; i++ {
		off := (a.next + i) % a.size
		port := a.base + off
		if _, taken := a.used[port]; taken {
			continue
		}
		got, err := bind(port)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			return 0, err
		}
		a.used[port] = struct{}{}
		a.next = (off + 1) % a.size
		return got, nil
	}
	return 0, fmt.Errorf("%w (%d-%d)", errPortsExhausted, a.base, a.base+a.size-1)
}

// release makes port available again; releasing a port outside the range or not
// allocated does nothing.
func (a *portAllocator) release(port int) {
	delete(a.used, port)
}

// inUse returns how many ports of the range are allocated.
func (a *portAllocator) inUse() int { return len(a.used) }
