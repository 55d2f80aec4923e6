package framework

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Tally sums up a client loop's attempts.
type Tally struct {
	Sent, Failed int
	// Lost counts the excused failures (Attempt.Excused), not in Failed.
	Lost int
	// Pods counts the answers of each pod.
	Pods map[string]int
	// Failures holds a few distinct failure messages.
	Failures []string
}

// TallyOf sums up the attempts that started in [from, to); zero times mean
// no bound.
func TallyOf(atts []Attempt, from, to time.Time) Tally {
	t := Tally{Pods: map[string]int{}}
	for _, a := range atts {
		if (!from.IsZero() && a.At.Before(from)) || (!to.IsZero() && !a.At.Before(to)) {
			continue
		}
		t.Sent++
		switch {
		case a.Pod != "":
			t.Pods[a.Pod]++
			continue
		case a.Excused:
			t.Lost++
			continue
		}
		t.Failed++
		if len(t.Failures) < 5 && !slices.Contains(t.Failures, a.Failure) {
			t.Failures = append(t.Failures, a.Failure)
		}
	}
	return t
}

// String prints a tally on one line.
func (t Tally) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d connections, %d failed;", t.Sent, t.Failed)
	if t.Lost > 0 {
		fmt.Fprintf(&b, " %d lost in the test network;", t.Lost)
	}
	for _, p := range slices.Sorted(maps.Keys(t.Pods)) {
		fmt.Fprintf(&b, " %s=%d", p, t.Pods[p])
	}
	if len(t.Failures) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(t.Failures, "; "))
	}
	return b.String()
}

// Settled returns when a condition took hold for good after a fault at
// since: the start of the first attempt in [since, until) from which on
// every attempt in that window (excused failures aside) satisfies ok. It
// reports false when the window's last attempt does not, or none started
// in it; a zero until means no bound.
func Settled(atts []Attempt, since, until time.Time, ok func(Attempt) bool) (time.Time, bool) {
	var first time.Time
	for _, a := range atts {
		if a.Excused || a.At.Before(since) || (!until.IsZero() && !a.At.Before(until)) {
			continue
		}
		switch {
		case !ok(a):
			first = time.Time{}
		case first.IsZero():
			first = a.At
		}
	}
	return first, !first.IsZero()
}

// Answered accepts an attempt some pod answered.
func Answered(a Attempt) bool { return a.Pod != "" }

// AnsweredBy accepts an attempt one of pods answered.
func AnsweredBy(pods ...string) func(Attempt) bool {
	return func(a Attempt) bool { return slices.Contains(pods, a.Pod) }
}

// LastAnswerBy returns the start of the last attempt pod answered, zero if
// none did.
func LastAnswerBy(atts []Attempt, pod string) time.Time {
	var last time.Time
	for _, a := range atts {
		if a.Pod == pod {
			last = a.At
		}
	}
	return last
}

// FirstAnswerBy returns the start of the first attempt pod answered, zero if
// none did.
func FirstAnswerBy(atts []Attempt, pod string) time.Time {
	for _, a := range atts {
		if a.Pod == pod {
			return a.At
		}
	}
	return time.Time{}
}

// Span is a run of consecutive failed attempts.
type Span struct {
	First, Last time.Time
	Failed      int
}

// FailureSpans groups the failed attempts (excused ones aside) into runs
// that no answered attempt interrupts, for a test's log.
func FailureSpans(atts []Attempt) []Span {
	var spans []Span
	open := false
	for _, a := range atts {
		switch {
		case a.Excused:
		case a.Pod != "":
			open = false
		case open:
			s := &spans[len(spans)-1]
			s.Last, s.Failed = a.At, s.Failed+1
		default:
			spans = append(spans, Span{First: a.At, Last: a.At, Failed: 1})
			open = true
		}
	}
	return spans
}

// DescribeSpans prints failure spans relative to base, e.g.
// "[+1.02s..+3.95s: 147 failed]".
func DescribeSpans(spans []Span, base time.Time) string {
	var parts []string
	for _, s := range spans {
		parts = append(parts, fmt.Sprintf("[%+.2fs..%+.2fs: %d failed]",
			s.First.Sub(base).Seconds(), s.Last.Sub(base).Seconds(), s.Failed))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
