package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// trace is loop with every connection on record, for tests that place each
// outcome in time (e2e/ipvs' churn test): rate TCP connections per second
// to an e2e/echo server behind addr, each on its own goroutine, until
// SIGTERM or SIGINT. It then prints one line per connection in the order
// they started: "<ms> <pod>", or "<ms> - <why>" when it failed, ms being
// the guest's uptime in milliseconds when it started (the clock of lib.sh's
// uptime_ms).
func trace(args []string, out io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kpguest trace IP:PORT RATE")
		return 2
	}
	rate, err := strconv.Atoi(args[1])
	if err != nil || rate < 1 {
		fmt.Fprintf(os.Stderr, "kpguest trace: bad rate %q\n", args[1])
		return 2
	}
	t0 := time.Now()
	up, err := uptime()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kpguest trace: %v\n", err)
		return 1
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(stop)
	outcomes := traceUntil(args[0], rate, stop)
	for _, o := range outcomes {
		fmt.Fprintln(out, traceLine((up+o.at.Sub(t0)).Milliseconds(), o))
	}
	return 0
}

// traceUntil runs the connections until stop receives, waits for those in
// flight and returns them sorted by start.
func traceUntil(addr string, rate int, stop <-chan os.Signal) []outcome {
	var (
		mu       sync.Mutex
		all      []outcome
		inflight sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			inflight.Wait()
			slices.SortFunc(all, func(a, b outcome) int { return a.at.Compare(b.at) })
			return all
		case at := <-tick.C:
			inflight.Go(func() {
				o := connectOnce(addr, at)
				mu.Lock()
				all = append(all, o)
				mu.Unlock()
			})
		}
	}
}

// traceLine renders one outcome.
func traceLine(ms int64, o outcome) string {
	if o.pod != "" {
		return fmt.Sprintf("%d %s", ms, o.pod)
	}
	return fmt.Sprintf("%d - %s", ms, strings.ReplaceAll(o.err, "\n", " "))
}

// uptime reads /proc/uptime.
func uptime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("empty /proc/uptime")
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/uptime: %w", err)
	}
	return time.Duration(s * float64(time.Second)), nil
}
