package faultse2e

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// attemptTimeout bounds one connection of a client loop. It leaves room for
// two SYN retransmissions (after 1 s and 3 s), so that a SYN lost on a busy
// machine does not count as a failure. It hides no fault of kproxy: a SYN
// that met a missing or stale rule created a conntrack entry its
// retransmissions follow, so they fail the same way.
const attemptTimeout = 3500 * time.Millisecond

// attempt is one connection of a client loop.
type attempt struct {
	// at is when it started.
	at time.Time
	// pod answered it; empty when it failed.
	pod string
	// failure says why nobody answered.
	failure string
}

// clientLoop opens TCP connections to one address at a steady rate from
// inside a namespace, each on its own goroutine so a slow one does not
// delay the next, and records every outcome.
type clientLoop struct {
	stopOnce sync.Once
	done     chan struct{}
	ticking  sync.WaitGroup
	inflight sync.WaitGroup

	mu       sync.Mutex
	attempts []attempt
}

// startLoop starts rate connections per second from from to addr; stop ends
// it and returns the attempts.
func startLoop(from framework.NetNSer, addr netip.AddrPort, rate int) *clientLoop {
	l := &clientLoop{done: make(chan struct{})}
	probe := traffic.Probe{Protocol: traffic.TCP, Addr: addr, Count: 1, Parallel: 1, Timeout: attemptTimeout}
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
func (l *clientLoop) record(at time.Time, probe traffic.Probe, within traffic.Within) {
	a := attempt{at: at}
	r, err := traffic.Run(context.Background(), probe, within)
	switch {
	case err != nil:
		a.failure = err.Error()
	case r.Answered() == 1:
		a.pod = r.PodNames()[0]
	case len(r.Errors) > 0:
		a.failure = r.Errors[0]
	default:
		a.failure = r.String()
	}
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

// stop ends the loop, waits for the connections in flight and returns every
// attempt in the order they started.
func (l *clientLoop) stop() []attempt {
	l.stopOnce.Do(func() { close(l.done) })
	l.ticking.Wait()
	l.inflight.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]attempt(nil), l.attempts...)
	slices.SortFunc(out, func(a, b attempt) int { return a.at.Compare(b.at) })
	return out
}

// tally sums up attempts.
type tally struct {
	sent, failed int
	pods         map[string]int
	// failures holds a few distinct failure messages.
	failures []string
}

// tallyOf sums up the attempts that started in [from, to); zero times mean
// no bound.
func tallyOf(atts []attempt, from, to time.Time) tally {
	t := tally{pods: map[string]int{}}
	for _, a := range atts {
		if (!from.IsZero() && a.at.Before(from)) || (!to.IsZero() && !a.at.Before(to)) {
			continue
		}
		t.sent++
		if a.pod != "" {
			t.pods[a.pod]++
			continue
		}
		t.failed++
		if len(t.failures) < 5 && !slices.Contains(t.failures, a.failure) {
			t.failures = append(t.failures, a.failure)
		}
	}
	return t
}

// String prints a tally on one line.
func (t tally) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d connections, %d failed;", t.sent, t.failed)
	for _, p := range slices.Sorted(maps.Keys(t.pods)) {
		fmt.Fprintf(&b, " %s=%d", p, t.pods[p])
	}
	if len(t.failures) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(t.failures, "; "))
	}
	return b.String()
}

// settled returns when a condition took hold for good after a fault at
// since: the start of the first attempt in [since, until) from which on
// every attempt in that window satisfies ok. It reports false when the
// window's last attempt does not, or none started in it; a zero until
// means no bound.
func settled(atts []attempt, since, until time.Time, ok func(attempt) bool) (time.Time, bool) {
	var first time.Time
	for _, a := range atts {
		if a.at.Before(since) || (!until.IsZero() && !a.at.Before(until)) {
			continue
		}
		switch {
		case !ok(a):
			first = time.Time{}
		case first.IsZero():
			first = a.at
		}
	}
	return first, !first.IsZero()
}

// answered accepts an attempt some pod answered.
func answered(a attempt) bool { return a.pod != "" }

// answeredBy accepts an attempt one of pods answered.
func answeredBy(pods ...string) func(attempt) bool {
	return func(a attempt) bool { return slices.Contains(pods, a.pod) }
}

// lastAnswerBy returns the start of the last attempt pod answered, zero if
// none did.
func lastAnswerBy(atts []attempt, pod string) time.Time {
	var last time.Time
	for _, a := range atts {
		if a.pod == pod {
			last = a.at
		}
	}
	return last
}

// firstAnswerBy returns the start of the first attempt pod answered, zero if
// none did.
func firstAnswerBy(atts []attempt, pod string) time.Time {
	for _, a := range atts {
		if a.pod == pod {
			return a.at
		}
	}
	return time.Time{}
}

// span is a run of consecutive failed attempts.
type span struct {
	first, last time.Time
	failed      int
}

// failureSpans groups the failed attempts into runs that no answered attempt
// interrupts, for the test log.
func failureSpans(atts []attempt) []span {
	var spans []span
	open := false
	for _, a := range atts {
		switch {
		case a.pod != "":
			open = false
		case open:
			s := &spans[len(spans)-1]
			s.last, s.failed = a.at, s.failed+1
		default:
			spans = append(spans, span{first: a.at, last: a.at, failed: 1})
			open = true
		}
	}
	return spans
}

// describeSpans prints failure spans relative to base, e.g.
// "[+1.02s..+3.95s: 147 failed]".
func describeSpans(spans []span, base time.Time) string {
	var parts []string
	for _, s := range spans {
		parts = append(parts, fmt.Sprintf("[%+.2fs..%+.2fs: %d failed]",
			s.first.Sub(base).Seconds(), s.last.Sub(base).Seconds(), s.failed))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
