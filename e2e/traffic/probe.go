package traffic

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Protocols a Probe can speak.
const (
	TCP  = "tcp"
	UDP  = "udp"
	HTTP = "http"
)

// Defaults applied by Run to zero Probe fields.
const (
	DefaultTimeout  = time.Second
	DefaultParallel = 8
)

// Probe describes the traffic to send.
type Probe struct {
	// Protocol is TCP (connect, read the greeting line), UDP (one datagram,
	// one reply per attempt, each from a new source port) or HTTP (GET / on a
	// new connection).
	Protocol string `json:"protocol"`
	// Addr is the destination, an IP literal with a port.
	Addr netip.AddrPort `json:"addr"`
	// Count is the number of attempts (default 1).
	Count int `json:"count"`
	// Parallel is the number of concurrent workers (default 8, at most Count).
	Parallel int `json:"parallel"`
	// Timeout bounds each attempt (default 1s).
	Timeout time.Duration `json:"timeout"`
}

// Within runs fn where the probe's sockets must be created, e.g. on a thread
// that joined a network namespace (netns.Do). Run calls it once per worker,
// and fn makes all of that worker's attempts. Nil means "right here".
type Within func(fn func() error) error

// Run makes p.Count attempts with p.Parallel workers and tallies the answers.
// The error reports a bad probe or a failing Within, never a failed attempt:
// those are counted in the Result.
func Run(ctx context.Context, p Probe, within Within) (Result, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if within == nil {
		within = func(fn func() error) error { return fn() }
	}
	jobs := make(chan struct{}, p.Count)
	for range p.Count {
		jobs <- struct{}{}
	}
	close(jobs)
	outcomes := make(chan outcome, p.Count)
	errs := make(chan error, p.Parallel)
	var wg sync.WaitGroup
	for range p.Parallel {
		wg.Go(func() {
			errs <- within(func() error {
				for range jobs {
					outcomes <- attempt(ctx, p)
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(outcomes)
	close(errs)
	var r Result
	for o := range outcomes {
		r.add(o)
	}
	for err := range errs {
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// withDefaults validates p and fills its zero fields.
func (p Probe) withDefaults() (Probe, error) {
	switch p.Protocol {
	case TCP, UDP, HTTP:
	default:
		return p, fmt.Errorf("traffic: unknown protocol %q (want tcp, udp or http)", p.Protocol)
	}
	if !p.Addr.IsValid() {
		return p, fmt.Errorf("traffic: no destination address")
	}
	if p.Count <= 0 {
		p.Count = 1
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Parallel <= 0 {
		p.Parallel = DefaultParallel
	}
	p.Parallel = min(p.Parallel, p.Count)
	return p, nil
}
