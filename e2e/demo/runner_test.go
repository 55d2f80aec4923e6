package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunner checks that the framework, driven through runner, behaves as
// under `go test`: Fatalf stops the body, cleanups run last first, and
// what the user reads says what failed.
func TestRunner(t *testing.T) {
	tests := []struct {
		name      string
		verbose   bool
		body      func(tb testing.TB, trace *[]string)
		wantOK    bool
		wantTrace []string
		wantOut   []string // in this order
		notOut    []string
	}{{
		name: "a passing body keeps its log lines to itself",
		body: func(tb testing.TB, trace *[]string) {
			tb.Cleanup(func() { *trace = append(*trace, "cleanup 1") })
			tb.Cleanup(func() { *trace = append(*trace, "cleanup 2") })
			tb.Logf("cluster up")
			*trace = append(*trace, "end of body")
		},
		wantOK:    true,
		wantTrace: []string{"end of body", "cleanup 2", "cleanup 1"},
		notOut:    []string{"cluster up"},
	}, {
		name: "Fatalf ends the body, prints the held log lines, then the failure",
		body: func(tb testing.TB, trace *[]string) {
			tb.Cleanup(func() { *trace = append(*trace, "teardown") })
			tb.Logf("cluster up")
			tb.Fatalf("kproxy exited")
			*trace = append(*trace, "after Fatalf")
		},
		wantTrace: []string{"teardown"},
		wantOut:   []string{"| cluster up", "FAIL: kproxy exited"},
	}, {
		name: "log lines after a failure are printed at once",
		body: func(tb testing.TB, trace *[]string) {
			tb.Cleanup(func() { tb.Logf("log of kproxy node-1") })
			tb.Errorf("no answer")
			*trace = append(*trace, "went on")
		},
		wantTrace: []string{"went on"},
		wantOut:   []string{"FAIL: no answer", "| log of kproxy node-1"},
	}, {
		name: "Fail marks the run failed without printing",
		body: func(tb testing.TB, trace *[]string) {
			tb.Logf("held")
			tb.Fail()
		},
		notOut: []string{"held", "FAIL"},
	}, {
		name: "a skip is a failure of the demo",
		body: func(tb testing.TB, trace *[]string) {
			tb.Skipf("proxy mode iptables is not available")
			*trace = append(*trace, "after Skipf")
		},
		wantOut: []string{"SKIPPED (the demo cannot run): proxy mode iptables is not available"},
	}, {
		name: "a panic fails the run and the cleanups still run",
		body: func(tb testing.TB, trace *[]string) {
			tb.Cleanup(func() { *trace = append(*trace, "teardown") })
			panic("nil map")
		},
		wantTrace: []string{"teardown"},
		wantOut:   []string{"FAIL: panic: nil map"},
	}, {
		name: "a panicking cleanup does not stop the others",
		body: func(tb testing.TB, trace *[]string) {
			tb.Cleanup(func() { *trace = append(*trace, "first registered") })
			tb.Cleanup(func() { panic("boom") })
		},
		wantTrace: []string{"first registered"},
		wantOut:   []string{"FAIL: panic in cleanup: boom"},
	}, {
		name:    "verbose prints log lines as they come",
		verbose: true,
		body:    func(tb testing.TB, trace *[]string) { tb.Logf("cluster up") },
		wantOK:  true,
		wantOut: []string{"    | cluster up"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var trace []string
			r := newRunner(&out, tt.verbose)
			ok := r.Run(func(tb testing.TB) { tt.body(tb, &trace) })
			if ok != tt.wantOK {
				t.Errorf("Run = %v, want %v; output:\n%s", ok, tt.wantOK, out.String())
			}
			if strings.Join(trace, ",") != strings.Join(tt.wantTrace, ",") {
				t.Errorf("trace %q, want %q", trace, tt.wantTrace)
			}
			assertOrder(t, out.String(), tt.wantOut)
			for _, s := range tt.notOut {
				if strings.Contains(out.String(), s) {
					t.Errorf("output has %q:\n%s", s, out.String())
				}
			}
		})
	}
}

// TestRunnerInterrupt checks that after Ctrl-C the body's failures, those
// of a cluster torn down under it, are not printed and the run fails.
func TestRunnerInterrupt(t *testing.T) {
	var out bytes.Buffer
	r := newRunner(&out, false)
	ok := r.Run(func(tb testing.TB) {
		r.Interrupt()
		tb.Logf("torn down")
		tb.Fatalf("probe: namespace gone")
	})
	if ok {
		t.Error("an interrupted run passed")
	}
	if out.Len() != 0 {
		t.Errorf("printed after the interrupt:\n%s", out.String())
	}
}

// TestRunnerCleanupsRunOnce checks that a signal's cleanup pass and the
// body's end do not run a cleanup twice.
func TestRunnerCleanupsRunOnce(t *testing.T) {
	r := newRunner(&bytes.Buffer{}, false)
	n := 0
	r.Run(func(tb testing.TB) {
		tb.Cleanup(func() { n++ })
		r.RunCleanups()
	})
	r.RunCleanups()
	if n != 1 {
		t.Errorf("cleanup ran %d times, want 1", n)
	}
	if r.Context().Err() == nil {
		t.Error("Context not cancelled after the cleanups")
	}
}

// assertOrder checks that every string of want occurs in out, in order.
func assertOrder(t *testing.T, out string, want []string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output lacks %q (in this order %q):\n%s", w, want, out)
			return
		}
		rest = rest[i+len(w):]
	}
}
