package userspacee2e

import (
	"fmt"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
)

// TestUserspaceChurnUnderLoad replaces the 3 pods behind a Service one by
// one, as a rolling update does (new pod added ready; old pod marked
// terminating, still serving; old pod stopped and removed), while a pod
// opens 50 connections per second to the Service through kproxy's listener
// (framework.RunChurn, as e2e/faults' TestChurnUnderLoad): no connection
// may fail, each new pod must answer before its predecessor is marked
// terminating, and no old pod may answer a connection started after its
// removal. kproxy itself must never have dialled a stopped pod: its retries
// on another endpoint would hide that from the client, so
// kubeproxy_userspace_dial_failures_total must not move.
func TestUserspaceChurnUnderLoad(t *testing.T) {
	r := newFaultRun(t, 3, 3)
	r.start(t, nil)
	dialFailures := portMetric(t, r.k, metricDialFailures, r.svc, portTCP)
	final := r.c.RunChurn(t, r.k, r.caller, r.addr, r.svc, r.serving, func(i int) framework.PodSpec {
		return framework.PodSpec{Name: fmt.Sprintf("new-%d", i+1), Node: r.node}
	})
	if got := portMetric(t, r.k, metricDialFailures, r.svc, portTCP) - dialFailures; got != 0 {
		t.Errorf("kproxy failed to dial an endpoint %v times during the churn, want 0 (it dialled a stopped pod)", got)
	}
	r.c.WaitServedBy(t, r.caller, r.addr, syncWait, final...)
}
