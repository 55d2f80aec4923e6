package framework

import (
	"testing"
	"time"
)

// TestLoopHelpers runs without root: how a client loop's attempts are
// summed up, when traffic counts as back, and how failures are grouped.
func TestLoopHelpers(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// a, a, fail, fail, b, fail, a, b, b at 0, 100, ... 800 ms.
	pods := []string{"a", "a", "", "", "b", "", "a", "b", "b"}
	var atts []Attempt
	for i, p := range pods {
		a := Attempt{At: at(100 * i), Pod: p}
		if p == "" {
			a.Failure = "i/o timeout"
		}
		atts = append(atts, a)
	}
	cases := []struct {
		name         string
		since, until time.Time
		ok           func(Attempt) bool
		want         time.Time
		wantOK       bool
	}{
		{"answered for good from the last failure on", at(0), time.Time{}, Answered, at(600), true},
		{"a window ending on a failure", at(0), at(600), Answered, time.Time{}, false},
		{"a window without failures", at(600), at(900), Answered, at(600), true},
		{"only b answers from 700 ms on", at(0), time.Time{}, AnsweredBy("b"), at(700), true},
		{"no attempt in the window", at(1000), time.Time{}, Answered, time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Settled(atts, tc.since, tc.until, tc.ok)
			if !got.Equal(tc.want) || ok != tc.wantOK {
				t.Errorf("settled = %v, %v; want %v, %v", got.Sub(t0), ok, tc.want.Sub(t0), tc.wantOK)
			}
		})
	}
	if got, want := TallyOf(atts, at(200), at(600)).String(), "4 connections, 3 failed; b=1 (i/o timeout)"; got != want {
		t.Errorf("tally = %q, want %q", got, want)
	}
	if got, want := DescribeSpans(FailureSpans(atts), at(200)), "[+0.00s..+0.10s: 2 failed] [+0.30s..+0.30s: 1 failed]"; got != want {
		t.Errorf("spans = %q, want %q", got, want)
	}
}
