package userspace

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// workers runs a listener's jobs (accepting and serving a connection,
// relaying one direction of it) on goroutines that outlive them: a goroutine
// that finished a job waits a while for the next, which then starts on a
// stack that has already grown to what dialing and relaying need. A new
// goroutine would grow its stack by copying it, a few microseconds of every
// new connection.
type workers struct {
	ctx     context.Context // the listener's: idle workers end when it is done
	wg      *sync.WaitGroup // counts every worker
	handoff chan func()     // passes a job to an idle worker
	idle    atomic.Int32
}

const (
	maxIdleWorkers = 16              // per listener; more end at once
	workerIdle     = 5 * time.Second // how long an idle worker waits for a job
)

// newWorkers returns the workers of a listener.
func newWorkers(ctx context.Context, wg *sync.WaitGroup) *workers {
	return &workers{ctx: ctx, wg: wg, handoff: make(chan func())}
}

// run runs job on an idle worker, or on a new one when none is idle.
func (w *workers) run(job func()) {
	select {
	case w.handoff <- job:
	default:
		w.wg.Add(1)
		go w.loop(job)
	}
}

// loop runs job, then the jobs handed to it while idle, until it has waited
// workerIdle for one, more than maxIdleWorkers are idle, or the listener
// closes.
func (w *workers) loop(job func()) {
	defer w.wg.Done()
	var timer *time.Timer
	for {
		job()
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		if timer == nil {
			timer = time.NewTimer(workerIdle)
		} else {
			timer.Reset(workerIdle)
		}
		var ok bool
		select {
		case job = <-w.handoff:
			ok = true
		case <-timer.C:
		case <-w.ctx.Done():
		}
		w.idle.Add(-1)
		if !ok {
			return
		}
	}
}
