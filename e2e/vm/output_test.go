package vm

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name         string
		raw          string
		wantOut      string
		wantCode     int
		wantFinished bool
	}{{
		name:         "success",
		raw:          "KPROXY-VM-READY 3.10\r\nhello\r\nworld\r\nKPROXY-VM-EXIT 0 3.50\r\n",
		wantOut:      "hello\nworld\n",
		wantFinished: true,
	}, {
		name:         "failure status",
		raw:          "KPROXY-VM-READY 3.10\nboom\nKPROXY-VM-EXIT 2 3.50\n",
		wantOut:      "boom\n",
		wantCode:     2,
		wantFinished: true,
	}, {
		name:         "last line without newline",
		raw:          "KPROXY-VM-READY 3.10\npartialKPROXY-VM-EXIT 0 3.50\n",
		wantOut:      "partial",
		wantFinished: true,
	}, {
		name:    "still running",
		raw:     "KPROXY-VM-READY 3.10\nhello\n",
		wantOut: "hello\n",
	}, {
		name: "never started",
		raw:  "",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, finished := parseOutput(tt.raw)
			if out != tt.wantOut || code != tt.wantCode || finished != tt.wantFinished {
				t.Errorf("parseOutput(%q) = %q, %d, %v; want %q, %d, %v",
					tt.raw, out, code, finished, tt.wantOut, tt.wantCode, tt.wantFinished)
			}
		})
	}
}

func TestResults(t *testing.T) {
	out := "noise\nKPROXY-RESULT answer ep1\nKPROXY-RESULTS not this\nKPROXY-RESULT ok\n"
	if got, want := Results(out), []string{"answer ep1", "ok"}; !slices.Equal(got, want) {
		t.Errorf("Results = %q, want %q", got, want)
	}
}

// TestWaitFor drives WaitFor against an output log written by hand.
func TestWaitFor(t *testing.T) {
	v := &VM{Dir: t.TempDir(), done: make(chan struct{})}
	log := filepath.Join(v.Dir, "output.log")
	write := func(s string) {
		if err := os.WriteFile(log, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("KPROXY-VM-READY 1.0\nstarting\n")
	go func() {
		time.Sleep(100 * time.Millisecond)
		write("KPROXY-VM-READY 1.0\nstarting\nsynced\n")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.WaitFor(ctx, "synced"); err != nil {
		t.Fatalf("WaitFor(synced) = %v", err)
	}
	close(v.done)
	if err := v.WaitFor(ctx, "never"); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("WaitFor on a stopped VM = %v, want a 'stopped' error", err)
	}
}
