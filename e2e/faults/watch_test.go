package faultse2e

import (
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// ruleWatch reads a node's nat table every 50 ms and counts the reads that
// lack any of a set of rules: proof that the rules never left the kernel,
// even for a moment too short for the client loop to notice.
type ruleWatch struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	reads   int
	missing int
	errs    []string
	example string // the first read that lacked a rule
}

// watchRules starts reading node n's nat table with variant's save command
// until stop; every read must contain each of want.
func watchRules(n *framework.Node, variant string, want ...string) *ruleWatch {
	w := &ruleWatch{done: make(chan struct{})}
	w.wg.Go(func() {
		for {
			select {
			case <-w.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			out, err := exec.Command("ip", "netns", "exec", n.NS, framework.IPTablesCmd(variant, "save"), "-t", "nat").Output()
			w.check(string(out), err, want)
		}
	})
	return w
}

// check records one read.
func (w *ruleWatch) check(save string, err error, want []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if len(w.errs) < 3 {
			w.errs = append(w.errs, err.Error())
		}
		return
	}
	w.reads++
	for _, rule := range want {
		if !strings.Contains(save, rule) {
			w.missing++
			if w.example == "" {
				w.example = "lacks " + rule + ":\n" + save
			}
			return
		}
	}
}

// stop ends the watch and returns the number of reads, how many lacked a
// rule, the first such read and any errors running the save command.
func (w *ruleWatch) stop() (reads, missing int, example string, errs []string) {
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reads, w.missing, w.example, w.errs
}

// ruleHistory reads a node's nat table every 100 ms and keeps every
// normalised read with its time, to find out afterwards when the table
// reached a state only known later.
type ruleHistory struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	reads []ruleRead
}

// ruleRead is one read of a ruleHistory.
type ruleRead struct {
	// at is when the read ended: the table held rules at some moment
	// before.
	at    time.Time
	rules string
}

// recordRules starts a ruleHistory of node n's nat table.
func recordRules(n *framework.Node, variant string) *ruleHistory {
	h := &ruleHistory{done: make(chan struct{})}
	h.wg.Go(func() {
		for {
			out, err := exec.Command("ip", "netns", "exec", n.NS, framework.IPTablesCmd(variant, "save"), "-t", "nat").Output()
			if err == nil {
				h.mu.Lock()
				h.reads = append(h.reads, ruleRead{at: time.Now(), rules: normalizeRules(string(out))})
				h.mu.Unlock()
			}
			select {
			case <-h.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	return h
}

// stop ends the history and returns its reads.
func (h *ruleHistory) stop() []ruleRead {
	close(h.done)
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reads
}

// equalSince returns the time of the first read from which on every read
// equals want, and false when the last read differs (or there is none).
func equalSince(reads []ruleRead, want string) (time.Time, bool) {
	var since time.Time
	for _, r := range reads {
		switch {
		case r.rules != want:
			since = time.Time{}
		case since.IsZero():
			since = r.at
		}
	}
	return since, !since.IsZero()
}
