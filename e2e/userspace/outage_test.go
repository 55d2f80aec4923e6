package userspacee2e

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// Timing of TestUserspaceAPIServerOutage.
const (
	// outage is how long the API server stays down.
	outage = 30 * time.Second
	// catchUpWithin is how soon after the API server is back a change
	// written then must reach traffic.
	catchUpWithin = 5 * time.Second
)

// TestUserspaceAPIServerOutage kills the API server for 30 s while a pod
// opens 20 connections per second to a Service, then starts it again on the
// same data. While it is down kproxy must keep its process (same pid), its
// listeners and its portal rules (they read as before), answer /livez, and
// no connection may fail. As soon as the API server is back, an endpoint is
// added to the Service and a new Service is created: within 5 s of the API
// server's return the loop's connections must reach the added endpoint and
// the new Service must answer. (Adding rather than replacing an endpoint
// keeps every connection of the loop valid: kproxy closes connections to
// endpoints that are removed.)
func TestUserspaceAPIServerOutage(t *testing.T) {
	r := newFaultRun(t, 3, 2)
	r.start(t, nil)
	pid := r.k.Process.Pid()
	before := r.portalRules(t)
	loop := framework.StartLoop(r.caller, r.addr, 20)
	time.Sleep(time.Second)

	down := time.Now()
	r.c.StopControlPlane(t, 0) // SIGKILL: the outage starts at once
	health := r.c.WatchLiveness(t, r.k, down.Add(outage))
	during := r.portalRules(t)
	r.c.StartControlPlane(t)
	back := time.Now()
	t.Logf("API server unavailable for %v: killed for %v, then %v to be ready",
		back.Sub(down).Round(time.Millisecond), outage, time.Since(down.Add(outage)).Round(time.Millisecond))

	writeRetrying(t, "the new endpoints", func() error { return r.c.TrySetEndpoints(r.svc, framework.ReadyEndpoints(r.web...)...) })
	_, lateAddr := r.serve(t, "late", r.web[2])
	r.c.WaitServedBy(t, r.caller, lateAddr, 20*time.Second, r.web[2])
	late := time.Since(back)
	r.c.WaitServedBy(t, r.caller, r.addr, 5*time.Second, r.web...)
	atts := loop.Stop()
	added := framework.FirstAnswerBy(atts, r.web[2].Name)

	health.Check(t, r.k, pid)
	if during != before {
		t.Errorf("the portal rules changed while the API server was down:\n%s\nwant:\n%s", during, before)
	}
	framework.CheckNoFailures(t, atts, down, back, int(outage.Seconds())*15)
	if added.IsZero() {
		t.Fatalf("the added endpoint %s never answered the client loop", r.web[2].Name)
	}
	t.Logf("after the API server's return: the new Service answers after %v, the endpoint added to web after %v",
		late.Round(time.Millisecond), added.Sub(back).Round(time.Millisecond))
	if late > catchUpWithin || added.Sub(back) > catchUpWithin {
		t.Errorf("kproxy caught up too late: want both within %v of the API server's return", catchUpWithin)
	}
}

// writeRetrying retries a write for up to 10 s while the restarted API
// server settles.
func writeRetrying(t *testing.T, what string, write func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := write()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("writing %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
