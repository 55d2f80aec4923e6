package main

import (
	"encoding/json"
	"syscall"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// a at 0, the fault at 100, fails at 200 and 300, b at 400 (a
	// retransmitted SYN that got through), fail at 500, a at 600 and 700.
	outcomes := []outcome{
		{at: at(0), pod: "a"}, {at: at(200), err: "timeout"}, {at: at(300), err: "timeout"},
		{at: at(400), pod: "b"}, {at: at(500), err: "refused"}, {at: at(600), pod: "a"}, {at: at(700), pod: "a"},
	}
	for _, tc := range []struct {
		name     string
		outcomes []outcome
		mark     time.Time
		want     loopSummary
	}{
		{"unmarked", outcomes, time.Time{}, loopSummary{Sent: 7, Failed: 3, Pods: map[string]int{"a": 3, "b": 1},
			Errors: []string{"timeout", "refused"}, LastFailMs: -1, BackMs: -1}},
		{"marked before the failures", outcomes, at(100), loopSummary{Sent: 7, Failed: 3, Pods: map[string]int{"a": 3, "b": 1},
			Errors: []string{"timeout", "refused"}, Marked: true, LastFailMs: 400, BackMs: 500}},
		{"marked, nothing failed", outcomes[5:], at(100), loopSummary{Sent: 2, Pods: map[string]int{"a": 2},
			Marked: true, LastFailMs: -1, BackMs: 500}},
	} {
		got, _ := json.Marshal(summarize(tc.outcomes, tc.mark))
		want, _ := json.Marshal(tc.want)
		if string(got) != string(want) {
			t.Errorf("%s: %s, want %s", tc.name, got, want)
		}
	}
}

func TestLoop(t *testing.T) {
	addr := echoServer(t, "pod-5")
	out := &lockedBuffer{}
	code := make(chan int, 1)
	go func() { code <- loop([]string{addr, "50"}, out) }()
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Fatalf("loop exited %d, want 0", c)
	}
	var s loopSummary
	if err := json.Unmarshal([]byte(out.String()), &s); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if s.Sent < 10 || s.Failed != 0 || s.Pods["pod-5"] != s.Sent || !s.Marked || s.LastFailMs != -1 || s.BackMs < 0 || s.BackMs > 100 {
		t.Errorf("summary %+v, want ~30 connections, all answered by pod-5, marked, back at once", s)
	}
}
