package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// loopTimeout bounds one connection of the loop: room for two SYN
// retransmissions (after 1 s and 3 s), as the host's fault tests allow.
const loopTimeout = 3500 * time.Millisecond

// loopSummary is what loop prints when it ends, as one JSON line.
type loopSummary struct {
	Sent   int            `json:"sent"`
	Failed int            `json:"failed"`
	Pods   map[string]int `json:"pods"`
	// Errors holds a few distinct failure messages.
	Errors []string `json:"errors,omitempty"`
	// Marked tells whether SIGUSR1 marked the moment of a fault; the times
	// below count from it, in milliseconds, and are -1 when undefined.
	Marked bool `json:"marked"`
	// LastFailMs is when the last failed connection started.
	LastFailMs int64 `json:"lastFailMs"`
	// BackMs is when the first connection started from which on none
	// failed.
	BackMs int64 `json:"backMs"`
}

// outcome is one connection: when it started and who answered ("" if it
// failed, with err saying why).
type outcome struct {
	at  time.Time
	pod string
	err string
}

// loop opens rate TCP connections per second to an e2e/echo server behind
// addr, each on its own goroutine, until SIGTERM or SIGINT; each one counts
// as answered once the greeting names a pod. SIGUSR1 marks the moment a
// fault is made. At the end it prints a loopSummary.
func loop(args []string, out io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kpguest loop IP:PORT RATE")
		return 2
	}
	rate, err := strconv.Atoi(args[1])
	if err != nil || rate < 1 {
		fmt.Fprintf(os.Stderr, "kpguest loop: bad rate %q\n", args[1])
		return 2
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	var (
		mu       sync.Mutex
		outcomes []outcome
		inflight sync.WaitGroup
		mark     time.Time
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for running := true; running; {
		select {
		case s := <-sigs:
			if s == syscall.SIGUSR1 {
				mark = time.Now()
			} else {
				running = false
			}
		case at := <-tick.C:
			inflight.Go(func() {
				o := connectOnce(args[0], at)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			})
		}
	}
	inflight.Wait()
	b, _ := json.Marshal(summarize(outcomes, mark))
	fmt.Fprintln(out, string(b))
	return 0
}

// connectOnce makes one connection and reads the greeting.
func connectOnce(addr string, at time.Time) outcome {
	c, err := net.DialTimeout("tcp", addr, loopTimeout)
	if err != nil {
		return outcome{at: at, err: err.Error()}
	}
	defer c.Close()
	c.SetReadDeadline(at.Add(loopTimeout))
	greeting, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return outcome{at: at, err: "greeting: " + err.Error()}
	}
	pod, _, _ := strings.Cut(strings.TrimSpace(greeting), " ")
	return outcome{at: at, pod: pod}
}

// summarize tallies the outcomes, with times relative to mark when set.
func summarize(outcomes []outcome, mark time.Time) loopSummary {
	s := loopSummary{Pods: map[string]int{}, Marked: !mark.IsZero(), LastFailMs: -1, BackMs: -1}
	var lastFail, firstAfter time.Time
	for _, o := range outcomes {
		s.Sent++
		if o.pod != "" {
			s.Pods[o.pod]++
			continue
		}
		s.Failed++
		if len(s.Errors) < 5 && !contains(s.Errors, o.err) {
			s.Errors = append(s.Errors, o.err)
		}
		if o.at.After(lastFail) {
			lastFail = o.at
		}
	}
	if !s.Marked {
		return s
	}
	for _, o := range outcomes {
		if !o.at.Before(mark) && o.pod != "" && o.at.After(lastFail) && (firstAfter.IsZero() || o.at.Before(firstAfter)) {
			firstAfter = o.at
		}
	}
	if !lastFail.IsZero() && !lastFail.Before(mark) {
		s.LastFailMs = lastFail.Sub(mark).Milliseconds()
	}
	if !firstAfter.IsZero() {
		s.BackMs = firstAfter.Sub(mark).Milliseconds()
	}
	return s
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
