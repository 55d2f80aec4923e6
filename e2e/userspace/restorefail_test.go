package userspacee2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// minRestoreFailures is how many failed restores TestUserspaceRestoreFailures
// waits for before it lets them succeed: the first try and two retries.
const minRestoreFailures = 3

// TestUserspaceRestoreFailures makes iptables-restore fail on the node (a
// wrapper first in kproxy's PATH) while a Service is created, so that its
// portals cannot be written, and an endpoint is added to another, while a
// pod opens 20 connections per second to that other Service. Each failure
// must be logged and counted in
// kubeproxy_sync_proxy_rules_iptables_restore_failures_total and
// kubeproxy_sync_proxy_rules_failures_total, and retried without a new
// change; listeners take endpoint changes all the same; no connection of
// the loop fails. Once restores work again a full sync must write the new
// Service's portals, leave every other portal rule as it was, and the new
// Service must answer.
func TestUserspaceRestoreFailures(t *testing.T) {
	r := newFaultRun(t, 3, 2)
	shim := framework.NewRestoreShim(t, filepath.Join(r.node.Dir, "shim"))
	r.start(t, shim.Env())
	before := r.portalRules(t)
	restoresBefore, syncsBefore := r.metric(t, metricRestoreFailures), r.metric(t, metricSyncFailures)
	logBefore := len(r.k.Process.Log())
	loop := framework.StartLoop(r.caller, r.addr, 20)

	shim.Fail(t)
	failing := time.Now()
	_, lateAddr := r.serve(t, "late", r.web[2])
	r.c.SetEndpoints(t, r.svc, framework.ReadyEndpoints(r.web...)...)
	failures := r.waitMetric(t, metricRestoreFailures, restoresBefore+minRestoreFailures, 30*time.Second) - restoresBefore
	t.Logf("%v restore failures %v after the first", failures, time.Since(failing).Round(time.Millisecond))
	took := r.c.WaitServedBy(t, r.caller, r.addr, syncWait, r.web...)
	t.Logf("while restores fail, the added endpoint answers after %v (listeners need no restore)", took.Round(time.Millisecond))

	shim.Heal(t)
	healed := time.Now()
	t.Logf("restores failed for %v", healed.Sub(failing).Round(time.Millisecond))
	took = r.c.WaitServedBy(t, r.caller, lateAddr, 30*time.Second, r.web[2])
	t.Logf("the new Service answered %v after restores worked again", took.Round(time.Millisecond))
	atts := loop.Stop()

	failures = r.metric(t, metricRestoreFailures) - restoresBefore
	if syncs := r.metric(t, metricSyncFailures) - syncsBefore; syncs != failures {
		t.Errorf("%v failed IPv4 syncs counted for %v failed restores, want one each", syncs, failures)
	}
	r.k.CheckFailedSyncs(t, logBefore, failures)
	framework.CheckNoFailures(t, atts, failing, healed, 40)
	checkAddedPortals(t, before, r.portalRules(t), "default/late:tcp")
}

// listenerTarget finds the listener port of a portal rule.
var listenerTarget = regexp.MustCompile(`(?:--to-ports |--to-destination [0-9.]+:)(\d+)`)

// checkAddedPortals wants after to be before plus the cluster IP portals of
// service port name (one for arriving traffic, one for the node's own, to
// one listener), and nothing else changed: no rule lost, repeated or
// reordered, no jump added twice.
func checkAddedPortals(t *testing.T, before, after, name string) {
	t.Helper()
	var kept, added []string
	for _, line := range strings.Split(after, "\n") {
		if strings.Contains(line, name) {
			added = append(added, line)
		} else {
			kept = append(kept, line)
		}
	}
	if got := strings.Join(kept, "\n"); got != before {
		t.Errorf("portal rules other than %s changed:\n%s\nwant:\n%s", name, got, before)
	}
	ports := map[string]bool{}
	for _, line := range added {
		if m := listenerTarget.FindStringSubmatch(line); m != nil {
			ports[m[1]] = true
		}
	}
	if len(added) != 2 || !strings.Contains(added[0], "KUBE-PORTALS-CONTAINER") || !strings.Contains(added[1], "KUBE-PORTALS-HOST") || len(ports) != 1 {
		t.Errorf("portals of %s after the repair, want one in KUBE-PORTALS-CONTAINER and one in KUBE-PORTALS-HOST to one listener:\n%s", name, strings.Join(added, "\n"))
	}
}
