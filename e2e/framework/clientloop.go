package framework

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// LoopAttemptTimeout bounds one connection of a client loop. It leaves room
// for two SYN retransmissions (after 1 s and 3 s), so that a SYN lost on a
// busy machine does not count as a failure. It hides no fault of kproxy: a
// SYN that met a missing or stale rule created a conntrack entry its
// retransmissions follow, so they fail the same way.
const LoopAttemptTimeout = 3500 * time.Millisecond

// Attempt is one connection of a client loop.
type Attempt struct {
	// At is when it started.
	At time.Time
	// Pod answered it; empty when it failed.
	Pod string
	// Failure says why nobody answered.
	Failure string
	// Excused marks a failure that the test network, not kproxy, caused
	// (see KProxy.ExcuseNetworkLosses): it counts as lost, not failed.
	Excused bool
}

// ClientLoop opens TCP connections to one address at a steady rate from
// inside a namespace, each on its own goroutine so a slow one does not
// delay the next, and records every outcome: the steady client of the
// fault tests.
type ClientLoop struct {
	stopOnce sync.Once
	done     chan struct{}
	ticking  sync.WaitGroup
	inflight sync.WaitGroup

	mu       sync.Mutex
	attempts []Attempt
}

// StartLoop starts rate connections per second from from to addr; Stop
// ends it and returns the attempts.
func StartLoop(from NetNSer, addr netip.AddrPort, rate int) *ClientLoop {
	l := &ClientLoop{done: make(chan struct{})}
	probe := traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 1, Parallel: 1, Timeout: LoopAttemptTimeout}
	within := func(fn func() error) error { return netns.Do(from.NetNS(), fn) }
	l.ticking.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-tick.C:
			}
			l.inflight.Go(func() { l.record(time.Now(), probe, within) })
		}
	})
	return l
}

// record makes one attempt and stores its outcome.
func (l *ClientLoop) record(at time.Time, probe traffic.Probe, within traffic.Within) {
	a := Attempt{At: at}
	r, err := traffic.Run(context.Background(), probe, within)
	switch {
	case err != nil:
		a.Failure = err.Error()
	case r.Answered() == 1:
		a.Pod = r.PodNames()[0]
	case len(r.Errors) > 0:
		a.Failure = r.Errors[0]
	default:
		a.Failure = r.String()
	}
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

// Stop ends the loop, waits for the connections in flight and returns every
// attempt in the order they started.
func (l *ClientLoop) Stop() []Attempt {
	l.stopOnce.Do(func() { close(l.done) })
	l.ticking.Wait()
	l.inflight.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]Attempt(nil), l.attempts...)
	slices.SortFunc(out, func(a, b Attempt) int { return a.At.Compare(b.At) })
	return out
}
