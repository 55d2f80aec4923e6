package ipvse2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// The services of TestIPVSAPIServerOutage: outSteady carries the client
// loop; after the outage pod-3 is added to it and outLate created.
var (
	outSteady = svcSpec{name: "o-steady", clusterIP: "10.96.100.60", endpoints: podIPs(guestPods[:2])}
	outLate   = svcSpec{name: "o-late", clusterIP: "10.96.100.61", endpoints: podIPs(guestPods[2:])}
)

// Settings of TestIPVSAPIServerOutage.
const (
	// outageDown is how long the API server stays down.
	outageDown = 30 * time.Second
	// outageRate is the client loop's connections per second.
	outageRate = 20
	// catchUpWithin is how soon after the API server is back a change
	// written then must be in IPVS, as in the iptables and userspace
	// tests; outageSlack is what software emulation adds (kproxy's
	// re-list and a sync run on one emulated CPU).
	catchUpWithin = 5 * time.Second
	outageSlack   = 3 * time.Second
)

// outageFuncs sample, every 0.5 s, the kernel's virtual and real servers
// and kproxy's /livez.
const outageFuncs = `
# outage_sampler: one line per sample, "<virtual> <real> <livez ok 1/0>".
outage_sampler() {
	while :; do
		lz=0
		wget -q -O /dev/null http://127.0.0.1:10256/livez && lz=1
		echo "$(vs_count) $(rs_count) $lz"
		sleep 0.5
	done
}
# outage_log: kproxy's log lines about reaching the API server and syncing.
outage_log() {
	grep -E 'API server|reflector|watch|Synced" family="IPv4"' "$KPROXY_LOG" | tail -n 40
}
# caught_up: pod-3 serves both services.
caught_up() { vs_ready %[1]s rr 3 && vs_ready %[2]s rr 1; }
`

// outageScript starts kproxy and a client loop (client-1 → o-steady) and
// samples the kernel and /livez; after "outage-ready" the host makes the
// outage and the change. The guest waits for that change in IPVS, then
// reports "outage-caught-up <ms>", the samples ("outage-counts <virtual
// before> <real before> <fewest virtual> <fewest real> <samples> <livez
// failures>"), whether kproxy is the same process ("outage-pid-same") and
// the loop's trace.
func outageScript() *script {
	s := newScript(true)
	s.define(traceFuncs)
	s.define(fmt.Sprintf(outageFuncs, outSteady.vip(), outLate.vip()))
	vip := outSteady.vip()
	s.line("start_kproxy rr")
	s.line("wait_vs %s rr 2", vip)
	s.line("pid0=$KPROXY_PID before=\"$(vs_count) $(rs_count)\"")
	s.line("trace_start outage client-1 %s %d", vip, outageRate)
	s.line("outage_sampler >/tmp/samples & sampler=$!")
	s.line(`sleep 1; result "outage-ready $(uptime_ms)"`)
	s.line(`wait_until 300 "the change made after the outage" caught_up`)
	s.line(`result "outage-caught-up $(uptime_ms)"`)
	s.line("kill $sampler; wait $sampler 2>/dev/null")
	s.line("sleep 1; trace_stop outage")
	s.line(`result "outage-counts $before $(sort -n /tmp/samples | head -n 1 | cut -d' ' -f1) $(sort -k2 -n /tmp/samples | head -n 1 | cut -d' ' -f2) $(wc -l </tmp/samples) $(grep -c ' 0$' /tmp/samples)"`)
	s.line(`kill -0 "$pid0" && [ "$KPROXY_PID" = "$pid0" ] && result "outage-pid-same"`)
	s.line("section state-outage ipvsadm -Ln")
	s.line("section log-outage outage_log")
	s.line(`result "done"`)
	return s
}

// TestIPVSAPIServerOutage kills the shared API server (SIGKILL) for 30 s
// while a client in the guest opens 20 connections per second to a
// Service, then starts it again on the same data. Right after its return
// the host adds an endpoint to that Service and creates another one.
// Asserted: no connection fails; the kernel never holds fewer virtual or
// real servers than before the outage (samples every 0.5 s); kproxy stays
// the same process and its /livez answers; and the change is in IPVS
// within 5 s (+3 s for software emulation) of being written. The API
// server is usable by the package's other tests afterwards.
func TestIPVSAPIServerOutage(t *testing.T) {
	e := getEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	mustCreate(t, e.cp.Kube, []svcSpec{outSteady})
	g := bootGuest(t, ctx, e, outageScript(), "512M", 6*time.Minute)
	g.await(ctx, "outage-ready")

	killed, back := e.outage(t, outageDown)
	t.Logf("API server unavailable for %v: killed for %v, then %v to be ready",
		back.Sub(killed).Round(time.Millisecond), outageDown, back.Sub(killed.Add(outageDown)).Round(time.Millisecond))
	written := writeAfterOutage(t, ctx, e)
	g.await(ctx, "outage-caught-up")
	caught := time.Since(written)
	res, out := g.finish()
	t.Logf("IPVS at the end:\n%s\nkproxy's log about the API server (guest clock; the host's was %s when it was ready again):\n%s",
		section(out, "state-outage"), back.UTC().Format("15:04:05.000"), section(out, "log-outage"))

	t.Logf("the change, first written %v after the API server was ready, was in IPVS %v later (seen by the host in the guest's output, ≤ 50 ms late)",
		written.Sub(back).Round(time.Millisecond), caught.Round(time.Millisecond))
	if caught > catchUpWithin+outageSlack {
		t.Errorf("the change reached IPVS %v after it was written, want within %v (+%v for TCG)", caught, catchUpWithin, outageSlack)
	}
	atts := traceSection(t, out, "outage")
	from, to := resultTime(t, res, "outage-ready"), resultTime(t, res, "outage-caught-up")
	framework.CheckNoFailures(t, atts, from, to, int(outageDown.Seconds())*outageRate*3/4)
	checkOutageSamples(t, res)
}

// writeAfterOutage adds pod-3 to o-steady and creates o-late, retrying the
// first write for 10 s while the restarted API server settles; it returns
// when the first write was done.
func writeAfterOutage(t *testing.T, ctx context.Context, e *env) (written time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := setEndpoints(ctx, e.cp.Kube, outSteady, podIPs(guestPods))
		if err == nil {
			written = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("adding pod-3 to %s after the outage: %v", outSteady.name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustCreate(t, e.cp.Kube, []svcSpec{outLate})
	return written
}

// checkOutageSamples wants the kernel to have held every virtual and real
// server, /livez to have answered and kproxy to be the same process.
func checkOutageSamples(t *testing.T, res results) {
	t.Helper()
	f := strings.Fields(firstOr(res, "outage-counts"))
	if len(f) != 6 {
		t.Fatalf("outage-counts %q", f)
	}
	n := make([]int, len(f))
	for i, v := range f {
		n[i], _ = strconv.Atoi(v)
	}
	t.Logf("virtual/real servers before %d/%d, fewest seen %d/%d in %d samples; /livez failed %d times",
		n[0], n[1], n[2], n[3], n[4], n[5])
	if n[2] < n[0] || n[3] < n[1] {
		t.Errorf("the kernel held fewer virtual or real servers during the outage: %v", f)
	}
	if n[4] < int(outageDown.Seconds()) || n[5] > 0 {
		t.Errorf("/livez: %d of %d samples failed, want none of at least %d", n[5], n[4], int(outageDown.Seconds()))
	}
	if _, ok := res.first("outage-pid-same"); !ok {
		t.Error("kproxy did not survive the outage as the same process")
	}
}
