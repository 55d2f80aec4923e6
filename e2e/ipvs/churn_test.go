package ipvse2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kproxy/kproxy/e2e/framework"
)

// The pods of TestIPVSChurnUnderLoad: churnOld serve at the start, each
// replaced in turn by the churnNew pod of the same index.
var (
	churnOld = []pod{{"c-old-1", "10.244.0.31"}, {"c-old-2", "10.244.0.32"}, {"c-old-3", "10.244.0.33"}}
	churnNew = []pod{{"c-new-1", "10.244.0.34"}, {"c-new-2", "10.244.0.35"}, {"c-new-3", "10.244.0.36"}}
	churnSvc = svcSpec{name: "churn", clusterIP: "10.96.100.50", endpoints: podIPs(churnOld)}
)

// Settings of TestIPVSChurnUnderLoad: the rate, settle and grace of
// framework.RunChurn (the iptables and userspace tests'), counted from when
// the guest saw each change in IPVS.
const (
	// envChurnRate, when set, overrides the client's connections per
	// second, framework.ChurnRate.
	envChurnRate = "KPROXY_IPVS_CHURN_RATE"
	// churnBaseline is how long the client runs at that rate before any
	// change: the VM must sustain it without failures.
	churnBaseline = 10 * time.Second
)

// churnRateFor returns the client's rate: framework.ChurnRate unless the
// environment says otherwise.
func churnRateFor(t *testing.T) int {
	t.Helper()
	raw := os.Getenv(envChurnRate)
	if raw == "" {
		return framework.ChurnRate
	}
	r, err := strconv.Atoi(raw)
	if err != nil || r < 1 {
		t.Fatalf("%s=%q: want a positive number of connections per second", envChurnRate, raw)
	}
	return r
}

// churnFuncs are the churn script's own shell functions.
const churnFuncs = `
# ping_held_by POD: pings the held connection (h1..h3) POD answered, if any;
# prints "echo hN <reply>", or "echo-none POD".
ping_held_by() {
	for h in h1 h2 h3; do
		if [ "$(held_pod $h)" = "$1" ]; then
			ping_held $h
			return
		fi
	done
	result "echo-none $1"
}
`

// churnScript starts the six pods and kproxy, runs the client loop
// (client-1, rate/s) for churnBaseline with no change ("trace-base"), holds
// one connection from client-2 to each old pod, then with the loop running
// again ("trace-churn") replaces the pods one by one. Each step asks the
// host for a change with a result line and reports, in guest uptime
// milliseconds, when it asked and when IPVS showed it:
//
//	churn-add i      → the host lists the new pod ready; churn-added i: weight 1
//	churn-terminate i → the old pod terminating;   churn-drained i: weight 0 or gone
//	churn-remove i   → the old pod removed;       then its held connection is
//	                   pinged and the pod stopped: churn-gone i
func churnScript(rate int) *script {
	s := newScript(false)
	s.define(traceFuncs)
	s.define(churnFuncs)
	for _, p := range append(append([]pod(nil), churnOld...), churnNew...) {
		s.line("add_pod %s %s %s", p.name, p.ip, podGateway)
	}
	for _, c := range guestClients {
		s.line("add_ns %s %s %s", c.name, c.ip, clientGateway)
	}
	vip := churnSvc.vip()
	s.line("start_kproxy rr")
	s.line("wait_vs %s rr %d", vip, len(churnOld))
	s.line("trace_start base client-1 %s %d; sleep %d; trace_stop base", vip, rate, int(churnBaseline.Seconds()))
	for i := range churnOld {
		s.line("hold h%d client-2 %s", i+1, vip)
	}
	s.line("trace_start churn client-1 %s %d; sleep 1", vip, rate)
	s.line(`result "churn-start $(uptime_ms)"`)
	for i, old := range churnOld {
		fresh, n := churnNew[i], i+1
		s.line(`result "churn-add %d $(uptime_ms)"`, n)
		s.line(`wait_until 60 "%s in IPVS" vs_weight %s %s:%d 1`, fresh.name, vip, fresh.ip, targetPort)
		s.line(`result "churn-added %d $(uptime_ms)"`, n)
		s.line("sleep %g", framework.ChurnSettle.Seconds())
		s.line(`result "churn-terminate %d $(uptime_ms)"`, n)
		s.line(`wait_until 60 "%s drained" rs_drained %s %s:%d`, old.name, vip, old.ip, targetPort)
		s.line(`result "churn-drained %d $(uptime_ms)"`, n)
		s.line("sleep %g", framework.ChurnGrace.Seconds())
		s.line(`result "churn-remove %d $(uptime_ms)"`, n)
		s.line(`wait_until 60 "%s gone from kproxy's state" state_lacks "endpoint %s:"`, old.name, old.ip)
		s.line("ping_held_by %s; stop_pod %s", old.name, old.name)
		s.line(`result "churn-gone %d $(uptime_ms)"`, n)
	}
	s.line("sleep 1; trace_stop churn")
	s.line("wait_vs %s rr %d", vip, len(churnNew))
	s.line("section state-churn ipvsadm -Ln")
	s.line(`result "done"`)
	return s
}

// TestIPVSChurnUnderLoad replaces the pods behind a Service one by one, as
// a rolling update does, while a client in the guest opens 50 connections
// per second (or KPROXY_IPVS_CHURN_RATE) to it. For each pod the host
// writes the EndpointSlice three times: the new pod added ready; the old
// one marked terminating (serving, not ready); the old one removed, after
// which the guest stops it. Asserted:
//
//   - without churn the VM sustains the rate: 0 failed connections in 10 s
//     (otherwise the rate is too high for TCG, and the test says so);
//   - across the churn, 0 failed connections;
//   - each new pod answers before its predecessor is marked terminating;
//   - no old pod answers a connection started after IPVS was seen to
//     drain it (weight 0: new connections only go to ready pods), nor
//     after it was removed;
//   - graceful termination: a connection held open to each old pod since
//     before the churn still echoes after the pod was removed from the
//     EndpointSlice;
//   - at the end, IPVS serves the three new pods at weight 1.
func TestIPVSChurnUnderLoad(t *testing.T) {
	e := getEnv(t)
	rate := churnRateFor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	mustCreate(t, e.cp.Kube, []svcSpec{churnSvc})
	g := bootGuest(t, ctx, e, churnScript(rate), "512M", 8*time.Minute)
	current := podIPs(churnOld)
	for i := range churnOld {
		n, old := i+1, current[0]
		current = append(current[1:], churnNew[i].ip)
		g.await(ctx, fmt.Sprintf("churn-add %d", n))
		writeChurn(t, ctx, e.cp.Kube, "adding "+churnNew[i].name, append([]string{old}, current...), "")
		g.await(ctx, fmt.Sprintf("churn-terminate %d", n))
		writeChurn(t, ctx, e.cp.Kube, "terminating "+churnOld[i].name, current, old)
		g.await(ctx, fmt.Sprintf("churn-remove %d", n))
		writeChurn(t, ctx, e.cp.Kube, "removing "+churnOld[i].name, current, "")
	}
	res, out := g.finish()
	t.Logf("IPVS at the end:\n%s", section(out, "state-churn"))

	base := traceSection(t, out, "base")
	bt := framework.TallyOf(base, time.Time{}, time.Time{})
	t.Logf("no churn, %d conn/s for %v: %s", rate, churnBaseline, bt)
	if bt.Failed > 0 {
		t.Errorf("the VM does not sustain %d conn/s even without churn (%d of %d failed): lower %s",
			rate, bt.Failed, bt.Sent, envChurnRate)
	}
	steps := churnSteps(t, res)
	start := resultTime(t, res, "churn-start")
	framework.CheckChurn(t, traceSection(t, out, "churn"), steps, start)
	for i, s := range steps {
		inIPVS := resultTime(t, res, fmt.Sprintf("churn-added %d", i+1))
		t.Logf("%s -> %s: IPVS had the new pod %v after the guest asked for it, drained the old one %v after it asked for that",
			s.Old, s.New, inIPVS.Sub(s.Added).Round(time.Millisecond), s.Drained.Sub(s.Terminated).Round(time.Millisecond))
	}
	checkHeld(t, res)
}

// churnSteps reads each replacement's guest times. Added and Terminated
// are when the guest asked for the new pod and for the old one's
// termination (before the host wrote them), Drained when IPVS had the old
// one at weight 0 or gone, Gone when it was removed and stopped.
func churnSteps(t *testing.T, res results) []framework.Replacement {
	t.Helper()
	var steps []framework.Replacement
	for i := range churnOld {
		n := strconv.Itoa(i + 1)
		steps = append(steps, framework.Replacement{
			Old: churnOld[i].name, New: churnNew[i].name,
			Added:      resultTime(t, res, "churn-add "+n),
			Terminated: resultTime(t, res, "churn-terminate "+n),
			Drained:    resultTime(t, res, "churn-drained "+n),
			Gone:       resultTime(t, res, "churn-gone "+n),
		})
	}
	return steps
}

// checkHeld wants the connection held to each old pod to echo after the
// pod was removed: graceful termination kept its real server.
func checkHeld(t *testing.T, res results) {
	t.Helper()
	held := map[string]string{}
	for _, l := range res.all("held") {
		if h, p, ok := strings.Cut(l, " "); ok {
			held[p] = h
		}
	}
	for _, old := range churnOld {
		h, ok := held[old.name]
		if !ok {
			t.Logf("no connection was held to %s (the holds went %v)", old.name, held)
			continue
		}
		if echo, _ := res.first("echo " + h); echo != "ping" {
			t.Errorf("the connection held to %s did not echo after its removal: %q %v", old.name, echo, res.all("echo-error "+h))
			continue
		}
		t.Logf("the connection held to %s since before the churn echoed after the pod was removed", old.name)
	}
	if len(held) < 2 {
		t.Errorf("connections were held to %d old pods, want at least 2 of %d", len(held), len(churnOld))
	}
}

// writeChurn writes the churn Service's EndpointSlice: ready endpoints and,
// unless "", one terminating (serving, not ready) endpoint.
func writeChurn(t *testing.T, ctx context.Context, kube kubernetes.Interface, what string, ready []string, terminating string) {
	t.Helper()
	want := churnSvc.slice(ready)
	if terminating != "" {
		want.Endpoints = append(want.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{terminating},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false), Serving: ptr.To(true), Terminating: ptr.To(true)},
			NodeName:   ptr.To(nodeName),
		})
	}
	slices := kube.DiscoveryV1().EndpointSlices(namespace)
	cur, err := slices.Get(ctx, want.Name, metav1.GetOptions{})
	if err == nil {
		want.ResourceVersion = cur.ResourceVersion
		_, err = slices.Update(ctx, want, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
