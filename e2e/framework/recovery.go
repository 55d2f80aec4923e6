package framework

import (
	"testing"
	"time"
)

// Fault is one fault a test made while a client loop ran: Started is when
// the test began making it, Made when it was complete (from when on only
// kproxy can bring traffic back).
type Fault struct {
	Name          string
	Started, Made time.Time
}

// CheckRecoveries checks a client loop's attempts around faults made one
// after the other: no connection failed before the first, and after each,
// traffic was back for good (every later attempt until the next fault
// answered) within limit of it being made. It logs how long each took and
// what failed.
func CheckRecoveries(t testing.TB, atts []Attempt, faults []Fault, limit time.Duration) {
	t.Helper()
	if len(faults) == 0 {
		return
	}
	CheckBeforeFaults(t, atts, faults)
	for i, f := range faults {
		until := time.Now()
		if i+1 < len(faults) {
			until = faults[i+1].Started
		}
		back, ok := Settled(atts, f.Made, until, Answered)
		if !ok {
			t.Errorf("%s: traffic did not come back: %s", f.Name, TallyOf(atts, f.Made, until))
			continue
		}
		took := back.Sub(f.Made)
		t.Logf("%s: traffic back %v after it; %d connections failed in between",
			f.Name, took.Round(time.Millisecond), TallyOf(atts, f.Made, back).Failed)
		if took > limit {
			t.Errorf("%s: traffic came back %v after it, want within %v", f.Name, took, limit)
		}
	}
}

// CheckNoFailures wants no failed connection among atts, and at least
// minDuring of them started in [from, to), the fault's span: proof that the
// loop ran through it.
func CheckNoFailures(t testing.TB, atts []Attempt, from, to time.Time, minDuring int) {
	t.Helper()
	during := TallyOf(atts, from, to)
	all := TallyOf(atts, time.Time{}, time.Time{})
	t.Logf("client loop during the fault: %s", during)
	t.Logf("client loop in all: %s", all)
	if all.Failed > 0 {
		t.Errorf("%d connections failed although every endpoint kept running; relative to the fault: %s",
			all.Failed, DescribeSpans(FailureSpans(atts), from))
	}
	if during.Sent < minDuring {
		t.Errorf("the client loop made only %d connections during the fault, want at least %d", during.Sent, minDuring)
	}
}

// CheckBeforeFaults logs a client loop's tally with its failures relative to
// the first of faults, and wants no connection failed before that fault.
func CheckBeforeFaults(t testing.TB, atts []Attempt, faults []Fault) {
	t.Helper()
	t.Logf("client loop: %s; failures relative to the first fault: %s",
		TallyOf(atts, time.Time{}, time.Time{}), DescribeSpans(FailureSpans(atts), faults[0].Made))
	if n := TallyOf(atts, time.Time{}, faults[0].Started).Failed; n > 0 {
		t.Errorf("%d connections failed before the first fault", n)
	}
}
