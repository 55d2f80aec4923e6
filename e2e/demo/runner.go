package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// maxHeldLogLines bounds the framework log lines held back for a failure.
const maxHeldLogLines = 2000

// runner lets the e2e framework, written for tests, drive a main program:
// it implements testing.TB the way the testing package does. Run calls the
// body in its own goroutine, where FailNow (Fatalf, Skipf) ends that
// goroutine; the functions given to Cleanup then run, last first.
//
// Log lines are held back and printed only once something failed, as `go
// test` without -v does, unless verbose is set. After Interrupt the runner
// prints nothing more: the body's failures are those of a cluster being torn
// down under it.
type runner struct {
	// TB is nil. It only gives runner the interface's unexported method;
	// every exported one is implemented below.
	testing.TB

	out     io.Writer
	verbose bool

	mu          sync.Mutex
	failed      bool
	skipped     bool
	interrupted bool
	held        []string
	cleanups    []func()

	cleanupMu sync.Mutex // one cleanup pass at a time: the body's end or a signal
	ctx       context.Context
	cancel    context.CancelFunc
}

// newRunner returns a runner writing failures (and, when verbose, every log
// line) to out.
func newRunner(out io.Writer, verbose bool) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{out: out, verbose: verbose, ctx: ctx, cancel: cancel}
}

// Run runs body, then the cleanups, and reports whether it passed: no
// failure, no skip, no interruption. A panic in body is a failure.
func (r *runner) Run(body func(t testing.TB)) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		body(r)
	}()
	<-done
	r.RunCleanups()
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.failed && !r.skipped && !r.interrupted
}

// RunCleanups runs the registered cleanups, last first, each once. A
// concurrent call waits for the first to finish.
func (r *runner) RunCleanups() {
	r.cleanupMu.Lock()
	defer r.cleanupMu.Unlock()
	r.cancel()
	for {
		r.mu.Lock()
		n := len(r.cleanups)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[n-1]
		r.cleanups = r.cleanups[:n-1]
		r.mu.Unlock()
		r.runCleanup(f)
	}
}

// runCleanup runs one cleanup, turning a panic into a failure so the
// remaining cleanups still run.
func (r *runner) runCleanup(f func()) {
	defer func() {
		if p := recover(); p != nil {
			r.Errorf("panic in cleanup: %v\n%s", p, debug.Stack())
		}
	}()
	f()
}

// Interrupt silences the runner: from now on nothing it is told is printed.
func (r *runner) Interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.interrupted = true
}

// Interrupted reports whether Interrupt was called.
func (r *runner) Interrupted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.interrupted
}

// Cleanup registers f to run after the body, last registered first.
func (r *runner) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// Log records a log line.
func (r *runner) Log(args ...any) { r.log(fmt.Sprintln(args...)) }

// Logf records a log line.
func (r *runner) Logf(format string, args ...any) { r.log(fmt.Sprintf(format, args...)) }

// Error records a failure and goes on.
func (r *runner) Error(args ...any) { r.fail("FAIL", fmt.Sprintln(args...)) }

// Errorf records a failure and goes on.
func (r *runner) Errorf(format string, args ...any) { r.fail("FAIL", fmt.Sprintf(format, args...)) }

// Fatal records a failure and ends the body.
func (r *runner) Fatal(args ...any) { r.Error(args...); r.FailNow() }

// Fatalf records a failure and ends the body.
func (r *runner) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }

// Fail marks the run failed.
func (r *runner) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

// FailNow marks the run failed and ends the calling goroutine, which must
// be the body's.
func (r *runner) FailNow() {
	r.Fail()
	runtime.Goexit()
}

// Failed reports whether anything failed.
func (r *runner) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Skip ends the body as skipped. For the demo a skip is a failure: what it
// needs is missing.
func (r *runner) Skip(args ...any) { r.skip(fmt.Sprintln(args...)) }

// Skipf ends the body as skipped.
func (r *runner) Skipf(format string, args ...any) { r.skip(fmt.Sprintf(format, args...)) }

// SkipNow ends the body as skipped.
func (r *runner) SkipNow() { r.skip("skipped") }

// Skipped reports whether the body was skipped.
func (r *runner) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

// Helper does nothing: line numbers are not printed.
func (r *runner) Helper() {}

// Name names the run.
func (r *runner) Name() string { return "kproxy-demo" }

// Context is cancelled just before the cleanups run.
func (r *runner) Context() context.Context { return r.ctx }

// Output is a writer whose lines are logged.
func (r *runner) Output() io.Writer { return logWriter{r} }

// Attr logs a key and value.
func (r *runner) Attr(key, value string) { r.Logf("%s: %s", key, value) }

// TempDir returns a fresh directory removed at cleanup.
func (r *runner) TempDir() string {
	dir, err := os.MkdirTemp("", "kproxy-demo-")
	if err != nil {
		r.Fatalf("temp dir: %v", err)
	}
	r.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// ArtifactDir returns a fresh directory, like TempDir.
func (r *runner) ArtifactDir() string { return r.TempDir() }

// Setenv sets an environment variable until cleanup.
func (r *runner) Setenv(key, value string) {
	old, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		r.Fatalf("setenv %s: %v", key, err)
	}
	r.Cleanup(func() {
		if had {
			_ = os.Setenv(key, old)
		} else {
			_ = os.Unsetenv(key)
		}
	})
}

// Chdir changes the working directory until cleanup.
func (r *runner) Chdir(dir string) {
	old, err := os.Getwd()
	if err == nil {
		err = os.Chdir(dir)
	}
	if err != nil {
		r.Fatalf("chdir %s: %v", dir, err)
	}
	r.Cleanup(func() { _ = os.Chdir(old) })
}

// log prints a log line when verbose or after a failure, else holds it.
func (r *runner) log(msg string) {
	msg = strings.TrimRight(msg, "\n")
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.interrupted:
	case r.verbose || r.failed || r.skipped:
		fmt.Fprintln(r.out, indent(msg, "    | "))
	case len(r.held) < maxHeldLogLines:
		r.held = append(r.held, msg)
	}
}

// fail marks the run failed and prints msg after the held log lines, which
// tell what led to it.
func (r *runner) fail(label, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.report(label, msg)
}

// skip marks the body skipped, prints why and ends the body.
func (r *runner) skip(msg string) {
	r.mu.Lock()
	r.skipped = true
	r.report("SKIPPED (the demo cannot run)", msg)
	r.mu.Unlock()
	runtime.Goexit()
}

// report prints the held log lines, then label and msg. r.mu is held.
func (r *runner) report(label, msg string) {
	if r.interrupted {
		return
	}
	for _, l := range r.held {
		fmt.Fprintln(r.out, indent(l, "    | "))
	}
	r.held = nil
	fmt.Fprintf(r.out, "%s: %s\n", label, strings.TrimRight(msg, "\n"))
}

// logWriter logs what is written to it.
type logWriter struct{ r *runner }

// Write implements io.Writer.
func (w logWriter) Write(b []byte) (int, error) {
	w.r.log(string(b))
	return len(b), nil
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
