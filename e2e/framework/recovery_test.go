package framework

import (
	"fmt"
	"testing"
	"time"
)

// recordingTB keeps what a check reports instead of failing the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper()             {}
func (r *recordingTB) Logf(string, ...any) {}
func (r *recordingTB) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}

// TestCheckRecoveries runs without root: a fault whose traffic came back in
// time passes, one that came back late or never is reported, and so is a
// failure before the first fault.
func TestCheckRecoveries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// One attempt every 100 ms from 0 to 2900 ms; failed ones listed.
	attempts := func(failed ...int) []Attempt {
		var atts []Attempt
		for ms := 0; ms < 3000; ms += 100 {
			a := Attempt{At: at(ms), Pod: "a"}
			for _, f := range failed {
				if f == ms {
					a.Pod, a.Failure = "", "timeout"
				}
			}
			atts = append(atts, a)
		}
		return atts
	}
	faults := []Fault{{"first", at(500), at(500)}, {"second", at(1500), at(1500)}}
	for _, tc := range []struct {
		name   string
		failed []int
		errors int
	}{
		{"both back within 400 ms", []int{500, 600, 1500, 1600, 1700}, 0},
		{"the second back too late", []int{500, 1500, 1600, 1700, 1800, 1900}, 1},
		{"the second never back", []int{1500, 2900}, 1},
		{"a failure before the first fault", []int{100}, 1},
	} {
		r := &recordingTB{}
		CheckRecoveries(r, attempts(tc.failed...), faults, 400*time.Millisecond)
		if len(r.errors) != tc.errors {
			t.Errorf("%s: reported %q, want %d errors", tc.name, r.errors, tc.errors)
		}
	}
	r := &recordingTB{}
	CheckNoFailures(r, attempts(), at(0), at(1000), 10)
	CheckNoFailures(r, attempts(), at(0), at(1000), 11)
	CheckNoFailures(r, attempts(2000), at(0), at(1000), 1)
	if len(r.errors) != 2 {
		t.Errorf("CheckNoFailures reported %q, want too few connections once and a failure once", r.errors)
	}
}
