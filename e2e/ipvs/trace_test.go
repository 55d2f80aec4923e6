package ipvse2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// traceFuncs are the guest's shell functions for client loops whose every
// connection the host reads back (kpguest trace), and for the pods and
// real servers of the churn and outage tests.
const traceFuncs = `
# trace_start NAME NETNS ADDR RATE: kpguest trace in the background.
trace_start() {
	ip netns exec "$2" kpguest trace "$3" "$4" >"/tmp/trace-$1" 2>/tmp/trace-$1.err &
	echo $! >"/tmp/trace-$1.pid"
}
# trace_stop NAME: ends it and prints every connection as section trace-NAME.
trace_stop() {
	tp=$(cat "/tmp/trace-$1.pid")
	kill "$tp"
	wait "$tp"
	section "trace-$1" cat "/tmp/trace-$1" "/tmp/trace-$1.err"
}
# rs_drained VIP:PORT REAL:PORT: no new connection can go to the real
# server: it has weight 0, or is gone.
rs_drained() { vs_weight "$1" "$2" 0 || vs_lacks "$1" "$2"; }
# state_lacks TEXT: kproxy's /debug/state answers and lacks TEXT.
state_lacks() {
	wget -q -O /tmp/state http://127.0.0.1:10249/debug/state && ! grep -qF -- "$1" /tmp/state
}
# stop_pod NAME stops every process of the pod's namespace (its echo server).
stop_pod() {
	for p in $(ip netns pids "$1"); do kill "$p"; done
}
`

// traceSection reads the section a guest's trace_stop NAME printed: one
// attempt per line, "<ms> <pod>" or "<ms> - <why>", ms the guest's uptime.
// The attempts' times are guestTime(ms).
func traceSection(t *testing.T, out, name string) []framework.Attempt {
	t.Helper()
	atts, err := parseTrace(section(out, "trace-"+name))
	if err != nil {
		t.Fatalf("trace %s: %v", name, err)
	}
	if len(atts) == 0 {
		t.Fatalf("trace %s: no connections recorded", name)
	}
	return atts
}

// parseTrace parses kpguest trace's output.
func parseTrace(text string) ([]framework.Attempt, error) {
	var atts []framework.Attempt
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		ms, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || len(f) < 2 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		a := framework.Attempt{At: guestTime(ms), Pod: f[1]}
		if a.Pod == "-" {
			a.Pod, a.Failure = "", "failed"
			if len(f) == 3 {
				a.Failure = f[2]
			}
		}
		atts = append(atts, a)
	}
	return atts, nil
}

// guestTime places a guest uptime in milliseconds on a time.Time, so that
// the framework's helpers for client loops work on guest times; only
// differences between such times mean something.
func guestTime(ms int64) time.Time {
	return time.UnixMilli(ms)
}

// resultTime reads a result line "<prefix> <ms>" as a guest time.
func resultTime(t *testing.T, res results, prefix string) time.Time {
	t.Helper()
	raw, ok := res.first(prefix)
	ms, err := strconv.ParseInt(raw, 10, 64)
	if !ok || err != nil {
		t.Fatalf("no result %q with a time (got %q)", prefix, raw)
	}
	return guestTime(ms)
}

// TestParseTrace runs without the VM.
func TestParseTrace(t *testing.T) {
	atts, err := parseTrace("1000 pod-1\n1020 - dial tcp 10.96.100.50:80: connect: connection refused\n\n1040 pod-2\n")
	if err != nil {
		t.Fatal(err)
	}
	got := framework.TallyOf(atts, time.Time{}, time.Time{}).String()
	if want := "3 connections, 1 failed; pod-1=1 pod-2=1 (dial tcp 10.96.100.50:80: connect: connection refused)"; got != want {
		t.Errorf("tally %q, want %q", got, want)
	}
	if d := atts[2].At.Sub(atts[0].At); d != 40*time.Millisecond {
		t.Errorf("third attempt %v after the first, want 40ms", d)
	}
	if _, err := parseTrace("x pod-1"); err == nil {
		t.Error("a line without a time was accepted")
	}
}
