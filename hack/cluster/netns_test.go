package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runMainEnv makes the test binary behave as kcluster, so the tests below
// can start the real thing inside a throwaway network namespace.
const runMainEnv = "KCLUSTER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestStartsInIsolatedNetns starts kcluster in a fresh network namespace
// (unshare -n, gone when the process exits) that has no default route, and
// expects READY and a clean exit on SIGTERM. READY means /readyz answered
// "ok" through the written kubeconfig, so TLS and the token work too.
func TestStartsInIsolatedNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real apiserver")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare -n")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare")
	}
	tests := []struct {
		name  string
		setup string
		args  string
	}{
		{"loopback only", "ip link set lo up", "--bind-address 127.0.0.1"},
		{"fabric bridge address", "ip link set lo up && ip link add br0 type bridge && ip addr add 10.200.0.1/24 dev br0 && ip link set br0 up", "--bind-address 10.200.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := tt.setup + ` && ! ip route | grep -q default && exec "$0" --data-dir "$1" ` + tt.args
			cmd := exec.Command("unshare", "-n", "sh", "-c", script, os.Args[0], t.TempDir())
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			cmd.Stderr = &tailWriter{}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ready := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "READY ") {
						ready <- sc.Text()
					}
				}
				close(ready)
			}()
			select {
			case line, ok := <-ready:
				if !ok {
					cmd.Wait()
					t.Fatalf("kcluster exited without READY:\n%s", cmd.Stderr)
				}
				t.Logf("%s after %v", line, time.Since(start).Round(time.Millisecond))
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no READY after 2m:\n%s", cmd.Stderr)
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("exit after SIGTERM: %v\n%s", err, cmd.Stderr)
			}
		})
	}
}

// tailWriter keeps the last lines a child wrote, for failure messages.
type tailWriter struct{ lines []string }

func (w *tailWriter) Write(p []byte) (int, error) {
	w.lines = append(w.lines, strings.Split(strings.TrimRight(string(p), "\n"), "\n")...)
	if n := len(w.lines); n > 40 {
		w.lines = w.lines[n-40:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string { return strings.Join(w.lines, "\n") }
