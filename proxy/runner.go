package proxy

import (
	"fmt"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// runnerRetryFloor is the shortest delay before a failed run is retried, so that a
// minInterval of 0 (allowed by --ipvs-min-sync-period) cannot turn a persistent error
// into a busy loop.
const runnerRetryFloor = time.Second

// Runner calls a sync function in its own goroutine (Loop) on request (Run), with
// three guarantees:
//   - at most one run per minInterval, counted from the end of one run to the start
//     of the next: a request arriving sooner is deferred to that point, not dropped;
//   - at least one run per maxInterval, with or without requests;
//   - after a run fails (fn returns an error or panics) it is retried without a new
//     request. The first retry waits max(minInterval, 1s), each further consecutive
//     failure doubles the delay, capped at maxInterval. A successful run resets the
//     backoff; a new request during the backoff still runs after minInterval.
//
// Requests coalesce: any number of Run calls before the next run give one run.
type Runner struct {
	name        string
	fn          func() error
	minInterval time.Duration
	maxInterval time.Duration
	clk         clock.WithTicker
	requests    chan struct{}

	// waiting, when set (by tests), is called each time Loop blocks, with the time it
	// will next run fn on its own (zero when it has nothing scheduled).
	waiting func(next time.Time)
}

// NewRunner returns a Runner for fn. A maxInterval below minInterval is raised to
// minInterval; a maxInterval of 0 disables periodic runs (retries are then capped at
// one minute).
func NewRunner(name string, fn func() error, minInterval, maxInterval time.Duration, clk clock.WithTicker) *Runner {
	minInterval = max(minInterval, 0)
	if maxInterval > 0 && maxInterval < minInterval {
		maxInterval = minInterval
	}
	return &Runner{
		name:        name,
		fn:          fn,
		minInterval: minInterval,
		maxInterval: max(maxInterval, 0),
		clk:         clk,
		requests:    make(chan struct{}, 1),
	}
}

// Run asks for a run as soon as minInterval allows. It never blocks. A request made
// before Loop starts is kept and served when it does.
func (r *Runner) Run() {
	select {
	case r.requests <- struct{}{}:
	default: // a request is already queued; it covers this one
	}
}

// Loop serves requests and timers until stop is closed. Call it once, in its own
// goroutine. A run in progress when stop closes is finished first.
func (r *Runner) Loop(stop <-chan struct{}) {
	klog.V(3).InfoS("Sync runner started", "runner", r.name, "minInterval", r.minInterval, "maxInterval", r.maxInterval)
	defer klog.V(3).InfoS("Sync runner stopped", "runner", r.name)
	s := runSchedule{minInterval: r.minInterval, maxInterval: r.maxInterval, start: r.clk.Now()}
	timer := r.clk.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		default:
		}
		select {
		case <-r.requests:
			s.pending = true
		default:
		}
		now := r.clk.Now()
		next := s.next()
		if !next.IsZero() && !next.After(now) {
			err := r.call()
			s.ran(r.clk.Now(), err)
			if err != nil {
				klog.V(2).InfoS("Sync failed, will retry", "runner", r.name, "err", err, "retryIn", s.retryDelay())
			}
			continue
		}
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
		}
		if r.waiting != nil {
			r.waiting(next)
		}
		select {
		case <-stop:
			return
		case <-r.requests:
			s.pending = true
		case <-timer.C():
		}
		timer.Stop()
	}
}

// call runs fn, turning a panic into an error so that one bad sync is retried
// instead of taking the process down.
func (r *Runner) call() (err error) {
	defer func() {
		if p := recover(); p != nil {
			klog.ErrorS(nil, "Sync panicked", "runner", r.name, "panic", p)
			err = fmt.Errorf("%s: sync panicked: %v", r.name, p)
		}
	}()
	return r.fn()
}

// runSchedule is the Runner's decision state, kept apart from channels and timers.
type runSchedule struct {
	minInterval time.Duration
	maxInterval time.Duration
	start       time.Time // when Loop started: periodic runs count from here until the first run
	lastEnd     time.Time // when the last run ended; zero before the first
	pending     bool      // a request arrived since the last run started
	failures    int       // consecutive failed runs
}

// next returns when fn should run next, or the zero time if nothing is scheduled.
func (s *runSchedule) next() time.Time {
	var due time.Time
	if s.maxInterval > 0 {
		base := s.lastEnd
		if base.IsZero() {
			base = s.start
		}
		due = base.Add(s.maxInterval)
	}
	if s.failures > 0 {
		due = runnerEarliest(due, s.lastEnd.Add(s.retryDelay()))
	}
	if s.pending {
		requested := s.start // nothing ran yet: no interval to respect
		if !s.lastEnd.IsZero() {
			requested = s.lastEnd.Add(s.minInterval)
		}
		due = runnerEarliest(due, requested)
	}
	return due
}

// ran records a run that ended at end with result err.
func (s *runSchedule) ran(end time.Time, err error) {
	s.lastEnd = end
	s.pending = false
	if err != nil {
		s.failures++
	} else {
		s.failures = 0
	}
}

// retryDelay is the backoff after the current run of consecutive failures.
func (s *runSchedule) retryDelay() time.Duration {
	ceiling := s.maxInterval
	if ceiling <= 0 {
		ceiling = time.Minute
	}
	d := max(s.minInterval, runnerRetryFloor)
	for i := 1; i < s.failures && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// runnerEarliest returns the earlier of two times, where zero means "never".
func runnerEarliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
