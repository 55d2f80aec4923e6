package ipvse2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
)

// The services of TestIPVSFaults: steady carries the client loops; late is
// created while IPVS writes fail.
var (
	faultSteady = svcSpec{name: "steady", clusterIP: "10.96.100.40", endpoints: podIPs(guestPods[:2])}
	faultLate   = svcSpec{name: "late", clusterIP: "10.96.100.41", endpoints: podIPs(guestPods[2:])}
)

// Settings of TestIPVSFaults.
const (
	// faultMarker is the file whose existence makes kproxy's IPVS writes
	// fail (KPROXY_IPVS_FAULTS).
	faultMarker = "/tmp/ipvs-fail"
	// faultSyncPeriod is --ipvs-sync-period: the canary is checked once
	// per sync period.
	faultSyncPeriod = 5 * time.Second
	// faultLoopRate is the client loops' connections per second (the guest
	// runs under software emulation).
	faultLoopRate = 10
	// minFailedSyncs is how many failed syncs the guest waits for before it
	// lets writes succeed again: the first try and two retries.
	minFailedSyncs = 3
	// syncSlack is what a sync may add to a sync period under TCG.
	syncSlack = 3 * time.Second
)

// faultFuncs are the guest's shell functions for the fault scenarios.
const faultFuncs = `
# loop_start NAME NETNS ADDR RATE: a steady client loop in the background.
loop_start() {
	ip netns exec "$2" kpguest loop "$3" "$4" >"/tmp/loop-$1" 2>&1 &
	echo $! >"/tmp/loop-$1.pid"
}
# loop_mark NAME: tells the loop a fault is being made now.
loop_mark() { kill -USR1 "$(cat "/tmp/loop-$1.pid")"; }
# loop_stop NAME: ends the loop; prints "loop NAME <summary JSON>".
loop_stop() {
	lp=$(cat "/tmp/loop-$1.pid")
	kill "$lp"
	wait "$lp"
	result "loop $1 $(cat "/tmp/loop-$1")"
}
# sync_failures prints kubeproxy_sync_proxy_rules_failures_total for IPv4.
sync_failures() {
	wget -q -O - http://127.0.0.1:10249/metrics |
		awk '/^kubeproxy_sync_proxy_rules_failures_total\{ip_family="IPv4"\}/ { v = $2 } END { print v + 0 }'
}
failures_at_least() { [ "$(sync_failures)" -ge "$1" ]; }
# synced_after_failures LINE: from log line LINE on, an IPv4 "Synced" line
# follows the last failed IPv4 sync.
synced_after_failures() {
	tail -n "+$1" "$KPROXY_LOG" | awk '/"Sync failed; the next one will be full"/ && /family="IPv4"/ { f = 1; s = 0 }
		/"Synced" family="IPv4"/ { if (f) s = 1 } END { exit !s }'
}
log_lines() { wc -l <"$KPROXY_LOG"; }
addr_on_dummy() { ip -o addr show dev kube-ipvs0 | grep -q " $1/"; }
synced_more() { [ "$(synced_count)" -gt "$1" ]; }
# wait_ms SECONDS COMMAND...: like wait_until, but prints the milliseconds it
# took, or "never" after SECONDS, instead of dying.
wait_ms() {
	w0=$(uptime_ms)
	wend=$((w0 + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(uptime_ms)" -lt "$wend" ] || { echo never; return; }
		sleep 0.1
	done
	echo $(($(uptime_ms) - w0))
}
# kill_restart FLAG...: SIGKILLs kproxy and starts it again, sampling the
# number of virtual and real servers until its first IPv4 sync; prints
# "restart-counts <virtual before> <real before> <fewest virtual> <fewest
# real> <samples>" and "restart-synced-ms".
kill_restart() {
	before="$(vs_count) $(rs_count)"
	n0=$(synced_count)
	( while :; do echo "$(vs_count) $(rs_count)"; sleep 0.05; done ) >/tmp/counts &
	sampler=$!
	t0=$(uptime_ms)
	kill -9 "$KPROXY_PID"
	wait "$KPROXY_PID" 2>/dev/null
	start_kproxy "$@"
	wait_until 120 "the first sync after the restart" synced_more "$n0"
	result "restart-synced-ms $(($(uptime_ms) - t0))"
	kill "$sampler"
	wait "$sampler" 2>/dev/null
	result "restart-counts $before $(sort -n /tmp/counts | head -n 1 | cut -d' ' -f1) $(sort -k2 -n /tmp/counts | head -n 1 | cut -d' ' -f2) $(wc -l </tmp/counts)"
}
`

// faultsScript runs kproxy (rr, --ipvs-sync-period 5s, IPVS writes failing
// while faultMarker exists) and makes the faults one after the other, each
// with its own client loop from client-1 to steady: injected write failures
// while the host creates late and adds pod-3 to steady (after "failing"),
// steady's virtual server deleted by hand, its address deleted from
// kube-ipvs0 by hand, and kproxy SIGKILLed and restarted. After each it
// prints ipvsadm -Ln; at the end a fresh kproxy syncs a cleared kernel, for
// reference.
func faultsScript() *script {
	s := newScript(true)
	s.define(faultFuncs)
	vip, flags := faultSteady.vip(), fmt.Sprintf("--ipvs-sync-period=%s", faultSyncPeriod)
	s.line("export %s=%s", ipvsmode.EnvFaults, faultMarker)
	s.line("start_kproxy rr %s", flags)
	s.line("unset %s", ipvsmode.EnvFaults)
	s.line("wait_vs %s rr 2", vip)

	s.line("loop_start injected client-1 %s %d; sleep 2", vip, faultLoopRate)
	s.line(`base=$(sync_failures) from=$(($(log_lines) + 1))`)
	s.line("touch %s; t0=$(uptime_ms)", faultMarker)
	s.line(`result "failing"`)
	s.line(`wait_until 120 "%d failed syncs" failures_at_least $((base + %d))`, minFailedSyncs, minFailedSyncs)
	s.line(`result "failing-ms $(($(uptime_ms) - t0))"`)
	s.line(`vs_ready %s rr 2 || die "steady's real servers changed while IPVS writes failed"`, vip)
	s.line(`! ipvsadm -Ln -t %s >/dev/null 2>&1 || die "late was programmed while IPVS writes failed"`, faultLate.vip())
	s.line("rm %s; t0=$(uptime_ms)", faultMarker)
	s.line("wait_vs %s rr 1 60; wait_vs %s rr 3 60", faultLate.vip(), vip)
	s.line(`result "repaired-ms $(($(uptime_ms) - t0))"`)
	s.line(`wait_until 60 "a sync after the failures" synced_after_failures "$from"`)
	s.line(`result "sync-failures $(($(sync_failures) - base))"`)
	s.line(`section log-injected tail -n "+$from" "$KPROXY_LOG"`)
	s.line("loop_stop injected")
	s.line("section state-injected ipvsadm -Ln")

	s.line("loop_start vs client-1 %s %d; sleep 2", vip, faultLoopRate)
	s.line("loop_mark vs; ipvsadm -D -t %s", vip)
	s.line(`result "vs-restored-ms $(wait_ms 30 vs_ready %s rr 3)"`, vip)
	s.line("sleep 2; loop_stop vs")
	s.line("section state-vs ipvsadm -Ln")

	s.line("loop_start addr client-1 %s %d; sleep 2", vip, faultLoopRate)
	s.line("loop_mark addr; ip addr del %s/32 dev kube-ipvs0", faultSteady.clusterIP)
	s.line(`took=$(wait_ms 20 addr_on_dummy %s); result "addr-restored-ms $took"`, faultSteady.clusterIP)
	s.line(`[ "$took" != never ] || ip addr add %s/32 dev kube-ipvs0`, faultSteady.clusterIP)
	s.line("sleep 2; loop_stop addr")

	s.line("loop_start killed client-1 %s %d; sleep 2", vip, faultLoopRate)
	s.line("kill_restart rr %s", flags)
	s.line("sleep 2; loop_stop killed")
	s.line("section state-killed ipvsadm -Ln")

	s.line("stop_kproxy; ipvsadm -C")
	s.line("start_kproxy rr %s", flags)
	s.line("wait_vs %s rr 1; wait_vs %s rr 3", faultLate.vip(), vip)
	s.line("section state-fresh ipvsadm -Ln")
	s.line(`result "done"`)
	return s
}

// TestIPVSFaults boots one VM and breaks kproxy's IPVS mode in four ways
// while a client in the guest keeps connecting to a Service (10/s):
//
//   - IPVS writes fail (KPROXY_IPVS_FAULTS) while a Service is created and
//     an endpoint added: every failed sync is logged and counted in
//     kubeproxy_sync_proxy_rules_failures_total and retried; the kernel
//     keeps the old state, so no connection fails; once writes work a full
//     sync programs the changes;
//   - the Service's virtual server is deleted by hand (ipvsadm -D): the
//     canary notices and it is back within a sync period;
//   - its cluster IP is deleted from kube-ipvs0 by hand: the same;
//   - kproxy is SIGKILLed and restarted: the kernel never holds fewer
//     virtual or real servers (no flush at start-up) and no connection
//     fails.
//
// After each fault the kernel's IPVS table must equal the one a fresh
// kproxy writes into a cleared kernel.
func TestIPVSFaults(t *testing.T) {
	e := getEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	mustCreate(t, e.cp.Kube, []svcSpec{faultSteady})
	g := bootGuest(t, ctx, e, faultsScript(), "512M", 8*time.Minute)
	g.await(ctx, "failing")
	mustCreate(t, e.cp.Kube, []svcSpec{faultLate})
	if err := setEndpoints(ctx, e.cp.Kube, faultSteady, podIPs(guestPods)); err != nil {
		t.Fatalf("adding pod-3 to %s: %v", faultSteady.name, err)
	}
	res, out := g.finish()
	f := faultResults{res: res, out: out}
	t.Run("injected IPVS write failures are logged, counted, retried and repaired", f.injected)
	t.Run("virtual server deleted by hand is back within a sync period", f.deletedVirtualServer)
	t.Run("kube-ipvs0 address deleted by hand is back within a sync period", f.deletedAddress)
	t.Run("SIGKILL and restart: no flush, no failed connection", f.killed)
}

// faultResults reads what the guest of TestIPVSFaults reported.
type faultResults struct {
	res results
	out string
}

// loopSummary is what kpguest loop prints.
type loopSummary struct {
	Sent, Failed       int
	Pods               map[string]int
	Errors             []string
	Marked             bool
	LastFailMs, BackMs int64
}

// loop returns the summary of the client loop name.
func (f faultResults) loop(t *testing.T, name string) loopSummary {
	t.Helper()
	raw, ok := f.res.first("loop " + name)
	var s loopSummary
	if !ok {
		t.Fatalf("no summary of loop %s", name)
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("loop %s: %v in %q", name, err, raw)
	}
	t.Logf("loop %s: %d connections, %d failed, %v %v", name, s.Sent, s.Failed, s.Pods, s.Errors)
	return s
}

// millis reads a "<name> <milliseconds>" result; ok is false for "never".
func (f faultResults) millis(t *testing.T, name string) (time.Duration, bool) {
	t.Helper()
	raw, found := f.res.first(name)
	if !found {
		t.Fatalf("no %q result", name)
	}
	ms, err := strconv.Atoi(raw)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// sameAsFresh wants the IPVS table printed in section name to equal the
// one a fresh kproxy wrote.
func (f faultResults) sameAsFresh(t *testing.T, name string) {
	t.Helper()
	got, want := normalizeIPVS(section(f.out, name)), normalizeIPVS(section(f.out, "state-fresh"))
	if want == "" || got != want {
		t.Errorf("IPVS after the fault (%s):\n%s\nwant, as a fresh kproxy writes it:\n%s", name, got, want)
	}
}

func (f faultResults) injected(t *testing.T) {
	failing, _ := f.millis(t, "failing-ms")
	repaired, _ := f.millis(t, "repaired-ms")
	failures, err := strconv.ParseFloat(firstOr(f.res, "sync-failures"), 64)
	if err != nil || failures < minFailedSyncs {
		t.Errorf("sync failures counted: %v (%v), want at least %d", failures, err, minFailedSyncs)
	}
	t.Logf("%v failed syncs within %v; after writes worked again, the changes were in IPVS within %v", failures, failing, repaired)
	framework.CheckFailedSyncLog(t, section(f.out, "log-injected"), failures)
	if l := f.loop(t, "injected"); l.Failed > 0 || l.Sent < 20 {
		t.Errorf("client loop while writes failed: %d of %d connections failed, want none", l.Failed, l.Sent)
	}
	if repaired > 2*faultSyncPeriod+syncSlack {
		t.Errorf("the changes reached IPVS %v after writes worked again, want within the retry backoff (at most a sync period) and a sync", repaired)
	}
	f.sameAsFresh(t, "state-injected")
}

func (f faultResults) deletedVirtualServer(t *testing.T) {
	took, ok := f.millis(t, "vs-restored-ms")
	l := f.loop(t, "vs")
	t.Logf("virtual server back after %v; traffic back %d ms after the deletion (last failure at %d ms)", took, l.BackMs, l.LastFailMs)
	if !ok || took > faultSyncPeriod+syncSlack {
		t.Errorf("the virtual server was back after %v (ok %v), want within one sync period (%v) and a sync", took, ok, faultSyncPeriod)
	}
	f.sameAsFresh(t, "state-vs")
}

func (f faultResults) deletedAddress(t *testing.T) {
	took, ok := f.millis(t, "addr-restored-ms")
	l := f.loop(t, "addr")
	t.Logf("address back after %v (ok %v); traffic back %d ms after the deletion (last failure at %d ms)", took, ok, l.BackMs, l.LastFailMs)
	if !ok || took > faultSyncPeriod+syncSlack {
		t.Errorf("the cluster IP was back on kube-ipvs0 after %v (ok %v), want within one sync period (%v) and a sync", took, ok, faultSyncPeriod)
	}
}

func (f faultResults) killed(t *testing.T) {
	synced, _ := f.millis(t, "restart-synced-ms")
	counts := strings.Fields(firstOr(f.res, "restart-counts"))
	if len(counts) != 5 {
		t.Fatalf("restart-counts %q", counts)
	}
	t.Logf("first sync %v after the kill; virtual/real servers before %s/%s, fewest seen %s/%s in %s samples",
		synced, counts[0], counts[1], counts[2], counts[3], counts[4])
	if counts[2] != counts[0] || counts[3] != counts[1] {
		t.Errorf("the kernel held fewer virtual or real servers during the restart: %v", counts)
	}
	if l := f.loop(t, "killed"); l.Failed > 0 || l.Sent < 20 {
		t.Errorf("client loop across the restart: %d of %d connections failed, want none", l.Failed, l.Sent)
	}
	f.sameAsFresh(t, "state-killed")
}

// firstOr returns the first result named name, "" if none.
func firstOr(res results, name string) string {
	v, _ := res.first(name)
	return v
}

// normalizeIPVS makes ipvsadm -Ln output comparable: connection counters
// dropped, real servers sorted within their virtual server, virtual
// servers sorted.
func normalizeIPVS(out string) string {
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			slices.Sort(cur[1:])
			blocks = append(blocks, strings.Join(cur, "\n"))
		}
		cur = nil
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && (f[0] == "TCP" || f[0] == "UDP" || f[0] == "SCTP"):
			flush()
			cur = []string{strings.Join(f, " ")}
		case len(f) >= 4 && f[0] == "->" && f[1] != "RemoteAddress:Port" && cur != nil:
			cur = append(cur, strings.Join(f[:4], " "))
		}
	}
	flush()
	slices.Sort(blocks)
	return strings.Join(blocks, "\n")
}

// TestNormalizeIPVS runs without the VM: counters and the order of real and
// virtual servers do not count; weights and schedulers do.
func TestNormalizeIPVS(t *testing.T) {
	const head = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
	a := head + "TCP  10.96.0.2:80 rr\n  -> 10.244.0.12:8080             Masq    1      3          7\n  -> 10.244.0.11:8080             Masq    1      0          0\nTCP  10.96.0.1:80 rr\n  -> 10.244.0.13:8080             Masq    1      0          0\n"
	b := head + "TCP  10.96.0.1:80 rr\n  -> 10.244.0.13:8080             Masq    1      0          1\nTCP  10.96.0.2:80 rr\n  -> 10.244.0.11:8080             Masq    1      0          0\n  -> 10.244.0.12:8080             Masq    1      0          0\n"
	for _, tc := range []struct {
		name string
		b    string
		same bool
	}{
		{"order and counters", b, true},
		{"a weight", strings.Replace(b, "Masq    1      0          1", "Masq    0      0          1", 1), false},
		{"a scheduler", strings.Replace(b, "10.96.0.1:80 rr", "10.96.0.1:80 lc", 1), false},
		{"a real server missing", strings.Replace(b, "  -> 10.244.0.12:8080             Masq    1      0          0\n", "", 1), false},
	} {
		if got := normalizeIPVS(a) == normalizeIPVS(tc.b); got != tc.same {
			t.Errorf("%s: equal = %v, want %v:\n%s\n--\n%s", tc.name, got, tc.same, normalizeIPVS(a), normalizeIPVS(tc.b))
		}
	}
}
