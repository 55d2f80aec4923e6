package userspacee2e

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// What kproxy holds is measured when it has settled: after gcCycles garbage
// collections. Go's splice keeps pipes in a sync.Pool (internal/poll's
// splicePipePool) for the next splice, and only a garbage collection closes
// them: the pool's content survives one collection, and its pipes are
// closed by cleanups that run after the next. An idle kproxy may not collect
// garbage for up to 2 minutes, but a /metrics scrape allocates some 200 KB
// in kproxy, so scraping in a loop brings the collections within a second.
const (
	gcCycles   = 3
	settleWait = 10 * time.Second
	// metricGCs counts kproxy's completed garbage collections (Go collector).
	metricGCs = "go_gc_duration_seconds_count"
)

// Leak tolerances once settled: how many more descriptors (pipes apart) and
// goroutines kproxy may hold after the load than before it. A leak of one
// per connection or UDP session would show as hundreds. Pipes get no slack:
// settled, the splice pool is empty.
const (
	// fdSlack: the server side of the previous scrape's connection, which
	// the client has closed but kproxy may not have reaped yet.
	fdSlack = 1
	// goroutineSlack: that connection's goroutines.
	goroutineSlack = 2
	// leakWait bounds the wait for the counts to come down, in case a
	// sync's iptables-restore (a child process, its pipes and the
	// goroutines copying its output) is running.
	leakWait = 10 * time.Second
)

// usage is what a kproxy process holds at one moment.
type usage struct {
	fds, goroutines int
	// kinds counts the descriptors by what they are: "socket", "pipe",
	// "anon_inode:[eventpoll]", a file's path...
	kinds map[string]int
}

// pipes is the number of pipe descriptors.
func (u usage) pipes() int { return u.kinds["pipe"] }

// String is e.g. "2020 descriptors (2 pipe ends), 2056 goroutines".
func (u usage) String() string {
	return fmt.Sprintf("%d descriptors (%d pipe ends), %d goroutines", u.fds, u.pipes(), u.goroutines)
}

// measure counts kproxy k's open descriptors (/proc/<pid>/fd) and its
// goroutines (go_goroutines, which includes the goroutine serving that very
// scrape).
func measure(t *testing.T, k *framework.KProxy) usage {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(k.Process.Pid()) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%s: open descriptors: %v", k.Process.Name, err)
	}
	kinds := map[string]int{}
	for _, e := range entries {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		kind, _, _ := strings.Cut(target, ":[") // socket:[123] → socket
		if strings.HasPrefix(target, "anon_inode:") {
			kind = target
		}
		kinds[kind]++
	}
	g, ok := framework.MetricValue(k.Metrics(t), metricGoroutines, nil)
	if !ok {
		t.Fatalf("%s: /metrics has no %s: the Go collector is not registered", k.Process.Name, metricGoroutines)
	}
	return usage{fds: len(entries), goroutines: int(g), kinds: kinds}
}

// settled scrapes kproxy k until it has collected garbage gcCycles times
// (see gcCycles), then measures it.
func settled(t *testing.T, k *framework.KProxy) usage {
	t.Helper()
	gcs := func() float64 {
		n, ok := framework.MetricValue(k.Metrics(t), metricGCs, nil)
		if !ok {
			t.Fatalf("%s: /metrics has no %s", k.Process.Name, metricGCs)
		}
		return n
	}
	start, deadline := gcs(), time.Now().Add(settleWait)
	for gcs() < start+gcCycles { // back to back: the scrapes are what allocates
		if time.Now().After(deadline) {
			t.Logf("%s: fewer than %d garbage collections within %v: pooled splice pipes may count", k.Process.Name, gcCycles, settleWait)
			break
		}
	}
	return measure(t, k)
}

// settledAll measures every kproxy, settled, in node order.
func (s *suite) settledAll(t *testing.T) []usage {
	t.Helper()
	out := make([]usage, len(s.kps))
	for i, k := range s.kps {
		out[i] = settled(t, k)
	}
	return out
}

// checkNoLeak measures every kproxy, settled, until each holds no more
// than the slack above before (up to leakWait), and fails the test
// otherwise.
func (s *suite) checkNoLeak(t *testing.T, before []usage) {
	t.Helper()
	var after []usage
	start := time.Now()
	ok := eventually(leakWait, func() bool {
		after = s.settledAll(t)
		for i := range after {
			if !within(before[i], after[i]) {
				return false
			}
		}
		return true
	})
	for i, k := range s.kps {
		t.Logf("%s: before the load %s; after %s%s (settled in %v)", k.Node.Name, before[i], after[i],
			kindsDiff(before[i].kinds, after[i].kinds), time.Since(start).Round(10*time.Millisecond))
	}
	if !ok {
		t.Errorf("kproxy leaked: more than %d descriptors besides pipes, any pipe or more than %d goroutines above the counts before the load, %v after the last connection closed",
			fdSlack, goroutineSlack, leakWait)
	}
}

// within reports whether after holds no more than the slack above before.
func within(before, after usage) bool {
	return after.fds-after.pipes() <= before.fds-before.pipes()+fdSlack &&
		after.pipes() <= before.pipes() &&
		after.goroutines <= before.goroutines+goroutineSlack
}

// kindsDiff describes the descriptors after holds beyond before, e.g.
// " (+1 socket)", or "" when there are none.
func kindsDiff(before, after map[string]int) string {
	var more []string
	for _, kind := range slices.Sorted(maps.Keys(after)) {
		if n := after[kind] - before[kind]; n > 0 {
			more = append(more, fmt.Sprintf("+%d %s", n, kind))
		}
	}
	if len(more) == 0 {
		return ""
	}
	return " (" + strings.Join(more, ", ") + ")"
}
