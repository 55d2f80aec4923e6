package faultse2e

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// trafficResumeWithin bounds the time from a repair to the start of the
// first connection answered after it.
const trafficResumeWithin = time.Second

// checkRepairs checks faults made one after the other on the nat table: no
// connection failed before the first; after each, the nat table read every
// 100 ms (reads) came back to want within limit of the fault and stayed so
// until the next one, and a connection started after the repair was
// answered within trafficResumeWithin. Connections that failed while the
// table equalled want are logged, not failed: with the rules back and
// standing still they are the kernel's loss (see README.md), which follows
// a flush in bursts of several seconds.
func checkRepairs(t *testing.T, reads []ruleRead, atts []framework.Attempt, faults []framework.Fault, want string, limit time.Duration) {
	t.Helper()
	if len(reads) == 0 || len(faults) == 0 {
		t.Errorf("no nat reads (%d) or no faults (%d) to check", len(reads), len(faults))
		return
	}
	framework.CheckBeforeFaults(t, atts, faults)
	for i, f := range faults {
		until := reads[len(reads)-1].at
		if i+1 < len(faults) {
			until = faults[i+1].Started
		}
		repaired, ok := equalSince(readsBetween(reads, f.Made, until), want)
		if !ok {
			t.Errorf("%s: nat did not come back to what it was before the flush and stay so", f.Name)
			continue
		}
		took := repaired.Sub(f.Made)
		resumed := firstAnswerFrom(atts, repaired)
		after := framework.TallyOf(atts, repaired, until)
		t.Logf("%s: nat repaired %v after it (%d connections failed in between); first answered connection %v after the repair; while nat stood repaired: %s",
			f.Name, took.Round(time.Millisecond), framework.TallyOf(atts, f.Made, repaired).Failed,
			resumed.Sub(repaired).Round(time.Millisecond), after)
		if took > limit {
			t.Errorf("%s: nat repaired %v after it, want within %v", f.Name, took, limit)
		}
		if resumed.IsZero() || resumed.Sub(repaired) > trafficResumeWithin {
			t.Errorf("%s: no connection answered within %v of the repair", f.Name, trafficResumeWithin)
		}
	}
}

// readsBetween returns the reads that ended in [from, to).
func readsBetween(reads []ruleRead, from, to time.Time) []ruleRead {
	var out []ruleRead
	for _, r := range reads {
		if !r.at.Before(from) && r.at.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

// firstAnswerFrom returns the start of the first answered attempt that
// started at or after from, zero if none.
func firstAnswerFrom(atts []framework.Attempt, from time.Time) time.Time {
	for _, a := range atts {
		if a.Pod != "" && !a.At.Before(from) {
			return a.At
		}
	}
	return time.Time{}
}
