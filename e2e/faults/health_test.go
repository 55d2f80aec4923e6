package faultse2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// outageHealth is what watchHealth saw of kproxy during the outage.
type outageHealth struct {
	checks int
	bad    []string
}

// watchHealth checks kproxy once a second until the given time: its
// process runs and /livez answers 200.
func watchHealth(t *testing.T, c *framework.Cluster, k *framework.KProxy, until time.Time) *outageHealth {
	t.Helper()
	h := &outageHealth{}
	livez := fmt.Sprintf("http://127.0.0.1:%d/livez", framework.KProxyHealthzPort)
	for time.Now().Before(until) {
		h.checks++
		if k.Process.Exited() {
			h.bad = append(h.bad, fmt.Sprintf("kproxy exited: %v", k.Process.ExitErr()))
			return h
		}
		status, body, err := c.HTTPGet(k.Node, livez)
		if err != nil || status != 200 {
			h.bad = append(h.bad, fmt.Sprintf("/livez: %d %v %s", status, err, body))
		}
		time.Sleep(min(time.Second, time.Until(until)))
	}
	return h
}

// check reports what went wrong during the outage, and whether kproxy
// still runs as the same process now.
func (h *outageHealth) check(t *testing.T, k *framework.KProxy, pid int) {
	t.Helper()
	t.Logf("kproxy health during the outage: %d checks, %d bad", h.checks, len(h.bad))
	for _, b := range h.bad {
		t.Errorf("during the outage: %s", b)
	}
	if k.Process.Exited() || k.Process.Pid() != pid {
		t.Errorf("kproxy (pid %d) did not survive the outage: %v", pid, k.Process.ExitErr())
	}
}
