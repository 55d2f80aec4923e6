package framework

import (
	"fmt"
	"testing"
	"time"
)

// Liveness is what WatchLiveness saw of kproxy during a fault.
type Liveness struct {
	// Checks counts the checks made.
	Checks int
	// Bad describes the checks that failed.
	Bad []string
}

// WatchLiveness checks kproxy k once a second until the given time: its
// process runs and /livez answers 200.
func (c *Cluster) WatchLiveness(t testing.TB, k *KProxy, until time.Time) *Liveness {
	t.Helper()
	h := &Liveness{}
	livez := fmt.Sprintf("http://127.0.0.1:%d/livez", KProxyHealthzPort)
	for time.Now().Before(until) {
		h.Checks++
		if k.Process.Exited() {
			h.Bad = append(h.Bad, fmt.Sprintf("kproxy exited: %v", k.Process.ExitErr()))
			return h
		}
		status, body, err := c.HTTPGet(k.Node, livez)
		if err != nil || status != 200 {
			h.Bad = append(h.Bad, fmt.Sprintf("/livez: %d %v %s", status, err, body))
		}
		time.Sleep(min(time.Second, time.Until(until)))
	}
	return h
}

// Check reports what went wrong during the fault, and whether kproxy k
// still runs as the same process (pid) now.
func (h *Liveness) Check(t testing.TB, k *KProxy, pid int) {
	t.Helper()
	t.Logf("kproxy health during the fault: %d checks, %d bad", h.Checks, len(h.Bad))
	for _, b := range h.Bad {
		t.Errorf("during the fault: %s", b)
	}
	if k.Process.Exited() || k.Process.Pid() != pid {
		t.Errorf("kproxy (pid %d) did not survive the fault: %v", pid, k.Process.ExitErr())
	}
}
