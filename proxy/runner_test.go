package proxy

import (
	"errors"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var runnerT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// runnerHarness drives a Runner's Loop with a fake clock. Every action the test takes
// (a request, a clock step) wakes the loop exactly once; the harness then waits until
// the loop blocks again and reports when it plans to run next, so no test sleeps.
type runnerHarness struct {
	t     *testing.T
	clk   *clocktesting.FakeClock
	r     *Runner
	stop  chan struct{}
	done  chan struct{}
	idle  chan time.Time
	mu    sync.Mutex
	calls int
	errs  []error // results of successive calls; nil once used up
}

func newRunnerHarness(t *testing.T, minInterval, maxInterval time.Duration, errs ...error) *runnerHarness {
	h := &runnerHarness{
		t:    t,
		clk:  clocktesting.NewFakeClock(runnerT0),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		idle: make(chan time.Time),
		errs: errs,
	}
	h.r = NewRunner("test", h.fn, minInterval, maxInterval, h.clk)
	h.r.waiting = func(next time.Time) {
		select {
		case h.idle <- next:
		case <-h.stop:
		}
	}
	t.Cleanup(h.shutdown)
	return h
}

func (h *runnerHarness) fn() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if len(h.errs) == 0 {
		return nil
	}
	err := h.errs[0]
	h.errs = h.errs[1:]
	if err == errRunnerPanic {
		panic("boom")
	}
	return err
}

var (
	errRunnerSync  = errors.New("sync failed")
	errRunnerPanic = errors.New("panic instead of returning")
)

func (h *runnerHarness) start() {
	go func() {
		defer close(h.done)
		h.r.Loop(h.stop)
	}()
}

// waitIdle returns the loop's next planned run as an offset from runnerT0 (-1: none).
func (h *runnerHarness) waitIdle() time.Duration {
	h.t.Helper()
	select {
	case next := <-h.idle:
		if next.IsZero() {
			return -1
		}
		return next.Sub(runnerT0)
	case <-time.After(10 * time.Second):
		h.t.Fatal("runner loop did not go idle")
		return 0
	}
}

func (h *runnerHarness) callCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func (h *runnerHarness) shutdown() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Error("Loop did not return after stop")
	}
}

// runnerOp is one action and what the runner must have done once idle again.
type runnerOp struct {
	request   bool          // call Run
	advance   time.Duration // else step the fake clock
	wantCalls int           // fn calls so far
	wantNext  time.Duration // next planned run, offset from start; -1 for none
}

func TestRunnerSchedule(t *testing.T) {
	const sec = time.Second
	tests := []struct {
		name      string
		min, max  time.Duration
		errs      []error
		early     int // Run calls before Loop starts
		startNext time.Duration
		ops       []runnerOp
	}{{
		name: "max interval runs periodically without requests",
		min:  sec, max: 10 * sec, startNext: 10 * sec,
		ops: []runnerOp{
			{advance: 10 * sec, wantCalls: 1, wantNext: 20 * sec},
			{advance: 10 * sec, wantCalls: 2, wantNext: 30 * sec},
			{advance: 15 * sec, wantCalls: 3, wantNext: 45 * sec},
		},
	}, {
		name: "first request runs at once",
		min:  sec, max: 10 * sec, startNext: 10 * sec,
		ops: []runnerOp{{request: true, wantCalls: 1, wantNext: 10 * sec}},
	}, {
		name: "requests before Loop coalesce into one run",
		min:  sec, max: 10 * sec, early: 5, startNext: 10 * sec,
		ops: []runnerOp{{advance: 10 * sec, wantCalls: 2, wantNext: 20 * sec}},
	}, {
		name: "request within min interval is deferred, not dropped",
		min:  2 * sec, max: 10 * sec, startNext: 10 * sec,
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: 10 * sec},
			{request: true, wantCalls: 1, wantNext: 2 * sec},
			{request: true, wantCalls: 1, wantNext: 2 * sec},
			{advance: 2 * sec, wantCalls: 2, wantNext: 12 * sec},
		},
	}, {
		name: "min interval counts from the periodic run too",
		min:  3 * sec, max: 10 * sec, startNext: 10 * sec,
		ops: []runnerOp{
			{advance: 10 * sec, wantCalls: 1, wantNext: 20 * sec},
			{request: true, wantCalls: 1, wantNext: 13 * sec},
			{advance: 3 * sec, wantCalls: 2, wantNext: 23 * sec},
		},
	}, {
		name: "failures retry with doubling backoff capped at max interval",
		min:  sec, max: 10 * sec, startNext: 10 * sec,
		errs: []error{errRunnerSync, errRunnerSync, errRunnerSync, errRunnerSync, errRunnerSync, errRunnerSync},
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: 1 * sec},
			{advance: 1 * sec, wantCalls: 2, wantNext: 3 * sec},
			{advance: 2 * sec, wantCalls: 3, wantNext: 7 * sec},
			{advance: 4 * sec, wantCalls: 4, wantNext: 15 * sec},
			{advance: 8 * sec, wantCalls: 5, wantNext: 25 * sec},
			{advance: 10 * sec, wantCalls: 6, wantNext: 35 * sec},
		},
	}, {
		name: "success resets the backoff",
		min:  sec, max: 10 * sec, startNext: 10 * sec,
		errs: []error{errRunnerSync, errRunnerSync, errRunnerSync, nil, errRunnerSync},
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: 1 * sec},
			{advance: 1 * sec, wantCalls: 2, wantNext: 3 * sec},
			{advance: 2 * sec, wantCalls: 3, wantNext: 7 * sec},
			{advance: 4 * sec, wantCalls: 4, wantNext: 17 * sec}, // succeeded: periodic only
			{advance: 10 * sec, wantCalls: 5, wantNext: 18 * sec},
		},
	}, {
		name: "request during backoff waits only the min interval",
		min:  sec, max: 30 * sec, startNext: 30 * sec,
		errs: []error{errRunnerSync, errRunnerSync, errRunnerSync, errRunnerSync},
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: 1 * sec},
			{advance: 1 * sec, wantCalls: 2, wantNext: 3 * sec},
			{advance: 2 * sec, wantCalls: 3, wantNext: 7 * sec},
			{request: true, wantCalls: 3, wantNext: 4 * sec},
			{advance: 1 * sec, wantCalls: 4, wantNext: 12 * sec},
		},
	}, {
		name: "panic is retried like an error",
		min:  sec, max: 10 * sec, startNext: 10 * sec,
		errs: []error{errRunnerPanic},
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: 1 * sec},
			{advance: 1 * sec, wantCalls: 2, wantNext: 11 * sec},
		},
	}, {
		name: "zero min interval still waits the retry floor",
		min:  0, max: 10 * sec, startNext: 10 * sec,
		errs: []error{errRunnerSync},
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: 1 * sec},
			{request: true, wantCalls: 2, wantNext: 10 * sec},
		},
	}, {
		name: "zero max interval disables periodic runs",
		min:  sec, max: 0, startNext: -1,
		ops: []runnerOp{
			{request: true, wantCalls: 1, wantNext: -1},
			{request: true, wantCalls: 1, wantNext: 1 * sec},
			{advance: 1 * sec, wantCalls: 2, wantNext: -1},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunnerHarness(t, tc.min, tc.max, tc.errs...)
			for range tc.early {
				h.r.Run()
			}
			h.start()
			if got := h.waitIdle(); got != tc.startNext {
				t.Fatalf("after start: next run at %v, want %v", got, tc.startNext)
			}
			for i, op := range tc.ops {
				if op.request {
					h.r.Run()
				} else {
					h.clk.Step(op.advance)
				}
				next := h.waitIdle()
				if calls := h.callCount(); calls != op.wantCalls || next != op.wantNext {
					t.Fatalf("op %d %+v: calls=%d next=%v, want calls=%d next=%v",
						i, op, calls, next, op.wantCalls, op.wantNext)
				}
			}
		})
	}
}

// TestRunnerCoalescesRequestsDuringRun checks that requests made while fn runs give
// exactly one more run, after the min interval.
func TestRunnerCoalescesRequestsDuringRun(t *testing.T) {
	h := newRunnerHarness(t, time.Second, time.Minute)
	entered := make(chan struct{})
	release := make(chan struct{})
	inner := h.r.fn
	first := true
	h.r.fn = func() error {
		if first {
			first = false
			close(entered)
			<-release
		}
		return inner()
	}
	h.start()
	h.waitIdle()
	h.r.Run()
	<-entered
	for range 10 {
		h.r.Run()
	}
	close(release)
	if next := h.waitIdle(); next != time.Second || h.callCount() != 1 {
		t.Fatalf("after the blocked run: calls=%d next=%v, want 1 and 1s", h.callCount(), next)
	}
	h.clk.Step(time.Second)
	if next := h.waitIdle(); next != time.Second+time.Minute || h.callCount() != 2 {
		t.Fatalf("after the deferred run: calls=%d next=%v, want 2 and 1m1s", h.callCount(), next)
	}
}

// TestRunnerStop checks that closing stop ends Loop and that Run never blocks after.
func TestRunnerStop(t *testing.T) {
	h := newRunnerHarness(t, time.Second, time.Minute)
	h.start()
	h.waitIdle()
	close(h.stop)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not return after stop")
	}
	h.r.Run()
	h.r.Run()
	if h.callCount() != 0 {
		t.Errorf("fn ran %d times after stop, want 0", h.callCount())
	}
}

func TestNewRunnerRaisesMaxToMin(t *testing.T) {
	r := NewRunner("x", func() error { return nil }, 5*time.Second, time.Second, clocktesting.NewFakeClock(runnerT0))
	if r.maxInterval != 5*time.Second {
		t.Errorf("maxInterval = %v, want 5s", r.maxInterval)
	}
}
