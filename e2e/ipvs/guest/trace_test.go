package main

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTrace(t *testing.T) {
	addr := echoServer(t, "pod-6")
	out := &lockedBuffer{}
	code := make(chan int, 1)
	go func() { code <- trace([]string{addr, "50"}, out) }()
	time.Sleep(400 * time.Millisecond)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Fatalf("trace exited %d, want 0", c)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	prev := int64(-1)
	for _, l := range lines {
		f := strings.Fields(l)
		ms, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || len(f) != 2 || f[1] != "pod-6" || ms < prev {
			t.Errorf("line %q: want \"<ms> pod-6\", ms not decreasing", l)
		}
		prev = ms
	}
	if len(lines) < 10 {
		t.Errorf("%d connections in 400 ms at 50/s, want about 20:\n%s", len(lines), out.String())
	}
}

func TestTraceLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    outcome
		want string
	}{
		{"answered", outcome{pod: "c-new-1"}, "1500 c-new-1"},
		{"failed", outcome{err: "dial tcp: connection refused"}, "1500 - dial tcp: connection refused"},
		{"failed, two lines", outcome{err: "greeting:\nEOF"}, "1500 - greeting: EOF"},
	} {
		if got := traceLine(1500, tc.o); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestUptime(t *testing.T) {
	up, err := uptime()
	if err != nil {
		t.Skipf("no /proc/uptime: %v", err)
	}
	if up <= 0 || up > 100*365*24*time.Hour {
		t.Errorf("uptime %v", up)
	}
}
