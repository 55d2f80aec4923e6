package traffic

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// want is the part of a Result a case checks; Pods and Clients are compared
// in full.
type want struct {
	pods     map[string]int
	clients  map[string]int
	refused  int
	timedOut int
	reset    int
	other    int
}

func TestRun(t *testing.T) {
	const n = 20
	loop := map[string]int{"127.0.0.1": n}
	cases := []struct {
		name     string
		protocol string
		server   server
		want     want
	}{
		{"tcp answered", TCP, echoTCP("pod-a"), want{pods: map[string]int{"pod-a": n}, clients: loop}},
		{"tcp refused", TCP, closedPort("tcp"), want{refused: n}},
		{"tcp reset", TCP, resetTCP, want{reset: n}},
		{"tcp silent", TCP, silentTCP, want{timedOut: n}},
		{"tcp closed without answer", TCP, closeTCP, want{other: n}},
		{"tcp garbage", TCP, garbageTCP, want{other: n}},
		{"udp answered", UDP, echoUDP("pod-b"), want{pods: map[string]int{"pod-b": n}, clients: loop}},
		{"udp refused", UDP, closedPort("udp"), want{refused: n}},
		{"udp silent", UDP, listenUDP(nil), want{timedOut: n}},
		{"http answered", HTTP, echoHTTP("pod-c"), want{pods: map[string]int{"pod-c": n}, clients: loop}},
		{"http refused", HTTP, closedPort("tcp"), want{refused: n}},
		{"http error status", HTTP, serveHTTP(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no", http.StatusServiceUnavailable)
		}), want{other: n}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Probe{Protocol: tc.protocol, Addr: tc.server(t), Count: n, Timeout: 200 * time.Millisecond}
			r, err := Run(context.Background(), p, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := want{pods: r.Pods, clients: r.Clients, refused: r.Refused, timedOut: r.TimedOut, reset: r.Reset, other: r.Other}
			if r.Sent != n || !sameCounts(got.pods, tc.want.pods) || !sameCounts(got.clients, tc.want.clients) ||
				got.refused != tc.want.refused || got.timedOut != tc.want.timedOut || got.reset != tc.want.reset || got.other != tc.want.other {
				t.Errorf("result: %s\nwant pods %v clients %v refused %d timed out %d reset %d other %d",
					r.String(), tc.want.pods, tc.want.clients, tc.want.refused, tc.want.timedOut, tc.want.reset, tc.want.other)
			}
			if r.Failed() > 0 && len(r.Errors) == 0 {
				t.Errorf("failures without a message: %s", r.String())
			}
		})
	}
}

// sameCounts compares two histograms, nil equal to empty.
func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRunUsesWithinOncePerWorker(t *testing.T) {
	var calls atomic.Int32
	within := func(fn func() error) error {
		calls.Add(1)
		return fn()
	}
	p := Probe{Protocol: TCP, Addr: echoTCP("pod-a")(t), Count: 10, Parallel: 3}
	r, err := Run(context.Background(), p, within)
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || r.Answered() != 10 {
		t.Errorf("within called %d times (want 3), %d answered (want 10)", calls.Load(), r.Answered())
	}
}

func TestRunRejectsBadProbes(t *testing.T) {
	addr := closedPort("tcp")(t)
	for _, p := range []Probe{{Protocol: "sctp", Addr: addr}, {Protocol: TCP}} {
		if _, err := Run(context.Background(), p, nil); err == nil {
			t.Errorf("probe %+v: no error", p)
		}
	}
}

func TestParseReply(t *testing.T) {
	cases := []struct {
		line, pod, client string
		ok                bool
	}{
		{"web-1 10.244.1.3:41000\n", "web-1", "10.244.1.3:41000", true},
		{FormatReply("a", "[fd00::1]:80"), "a", "[fd00::1]:80", true},
		{"hello\n", "", "", false},
		{"a b c", "", "", false},
		{" 10.0.0.1:1", "", "", false},
	}
	for _, tc := range cases {
		pod, client, err := ParseReply(tc.line)
		if (err == nil) != tc.ok || pod != tc.pod || client != tc.client {
			t.Errorf("ParseReply(%q) = %q, %q, %v", tc.line, pod, client, err)
		}
	}
}
