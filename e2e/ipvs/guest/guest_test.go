package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer answers like e2e/echo: a greeting "<name> <client>", then it
// echoes every line.
func echoServer(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr())
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// lockedBuffer collects output written by another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls out until it holds want.
func waitFor(t *testing.T, out *lockedBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(out.String(), want) {
			return
		}
	}
	t.Fatalf("output %q never held %q", out.String(), want)
}

func TestHold(t *testing.T) {
	addr := echoServer(t, "pod-7")
	out := &lockedBuffer{}
	code := make(chan int, 1)
	go func() { code <- hold(addr, out) }()
	waitFor(t, out, "held pod-7\n")
	// Signals of one kind do not queue: send the second only after the first was handled.
	want := "held pod-7\n"
	for range 2 {
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		want += "echo ping\n"
		waitFor(t, out, want)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Errorf("hold exited %d after SIGTERM, want 0", c)
	}
}

func TestHoldRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out := &lockedBuffer{}
	if c := hold(addr, out); c != 1 || !strings.HasPrefix(out.String(), "error ") {
		t.Errorf("hold on a closed port = %d, %q; want 1 and an error line", c, out.String())
	}
}

func TestElapsed(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		code int
	}{
		{[]string{"true"}, 0},
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"/nonexistent/program"}, 127},
	} {
		var out strings.Builder
		code := elapsed(tc.argv, &out)
		if code != tc.code {
			t.Errorf("elapsed %v = %d, want %d", tc.argv, code, tc.code)
		}
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		if !sc.Scan() {
			t.Fatalf("elapsed %v printed nothing", tc.argv)
		}
		if us, err := strconv.Atoi(sc.Text()); err != nil || us < 0 {
			t.Errorf("elapsed %v printed %q, want microseconds", tc.argv, sc.Text())
		}
	}
}

func TestSwapArguments(t *testing.T) {
	for _, args := range [][]string{
		{"10.96.0.1:80", "10.244.0.1:8080"},
		{"10.96.0.1", "10.244.0.1:8080", "10.244.0.2:8080"},
		{"[fd00::1]:80", "10.244.0.1:8080", "10.244.0.2:8080"},
	} {
		var out strings.Builder
		if code := swap(args, &out); code != 2 {
			t.Errorf("swap %v = %d (%q), want 2 for bad arguments", args, code, out.String())
		}
	}
}
