package ipvse2e

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syncedTook matches the fields of kproxy's "Synced" log line.
var syncedTook = regexp.MustCompile(`full=(\w+) changed=(\d+) services=(\d+) took="?([^" ]+)"?`)

// roundResult is what the guest measured for one round.
type roundResult struct {
	took       time.Duration            // kproxy's "Synced ... took" for IPv4
	metric     time.Duration            // increase of the sync duration histogram's sum
	syncs      int                      // increase of its count
	hostSeen   time.Duration            // host's update call → guest reported the change
	list, del  time.Duration            // ipvsadm -Ln -t, ipvsadm -d
	add        time.Duration            // ipvsadm -a
	nlDel      time.Duration            // the delete alone, through netlink in-process
	nlAdd      time.Duration            // the add alone, likewise
	full       string                   // the Synced line's full=
	changed    string                   // and changed=
	phases     map[string]time.Duration // the sync's "IPVS sync phases" (-v=4)
	parseError error
}

// logField matches one key=value of a klog line.
var logField = regexp.MustCompile(`(\w+)="?([^" ]+)"?`)

// parsePhases reads the durations of an "IPVS sync phases" log line.
func parsePhases(line string) map[string]time.Duration {
	_, rest, ok := strings.Cut(line, `"IPVS sync phases"`)
	if !ok {
		return nil
	}
	out := map[string]time.Duration{}
	for _, m := range logField.FindAllStringSubmatch(rest, -1) {
		if d, err := time.ParseDuration(m[2]); err == nil {
			out[m[1]] = d
		}
	}
	return out
}

// parseRound reads round i's result lines.
func parseRound(res results, i int, hostSeen time.Duration) roundResult {
	r := roundResult{hostSeen: hostSeen}
	line, _ := res.first(fmt.Sprintf("round %d synced", i))
	m := syncedTook.FindStringSubmatch(line)
	if m == nil {
		r.parseError = fmt.Errorf("no Synced log line for IPv4: %q", line)
		return r
	}
	r.full, r.changed = m[1], m[2]
	var errs []error
	var err error
	r.took, err = time.ParseDuration(m[4])
	errs = append(errs, err)
	phases, _ := res.first(fmt.Sprintf("round %d phases", i))
	r.phases = parsePhases(phases)
	if r.phases == nil {
		errs = append(errs, fmt.Errorf("no IPVS sync phases log line (kproxy -v=4): %q", phases))
	}
	metric, _ := res.first(fmt.Sprintf("round %d metric", i))
	if f := strings.Fields(metric); len(f) == 4 {
		sum0, err0 := strconv.ParseFloat(f[0], 64)
		sum1, err1 := strconv.ParseFloat(f[2], 64)
		n0, err2 := strconv.Atoi(f[1])
		n1, err3 := strconv.Atoi(f[3])
		errs = append(errs, err0, err1, err2, err3)
		r.metric = time.Duration((sum1 - sum0) * float64(time.Second))
		r.syncs = n1 - n0
	} else {
		errs = append(errs, fmt.Errorf("metric line %q", metric))
	}
	cmds, _ := res.first(fmt.Sprintf("ipvsadm %d", i))
	if f := strings.Fields(cmds); len(f) == 3 {
		for j, d := range []*time.Duration{&r.list, &r.del, &r.add} {
			us, err := strconv.Atoi(f[j])
			errs = append(errs, err)
			*d = time.Duration(us) * time.Microsecond
		}
	} else {
		errs = append(errs, fmt.Errorf("ipvsadm line %q", cmds))
	}
	nl, _ := res.first(fmt.Sprintf("netlink %d", i))
	if f := strings.Fields(nl); len(f) == 2 {
		for j, d := range []*time.Duration{&r.nlDel, &r.nlAdd} {
			us, err := strconv.Atoi(f[j])
			errs = append(errs, err)
			*d = time.Duration(us) * time.Microsecond
		}
	} else {
		errs = append(errs, fmt.Errorf("netlink line %q", nl))
	}
	r.parseError = errors.Join(errs...)
	return r
}

// checkFirstSync logs how kproxy's first syncs went and checks that the
// kernel ended up with every service and endpoint.
func checkFirstSync(t *testing.T, res results, n int) {
	firstMS, _ := res.first("initial-sync-ms")
	firstCounts, _ := res.first("initial-counts")
	completeMS, _ := res.first("complete-ms")
	vss, _ := res.first("virtual-servers")
	rss, _ := res.first("real-servers")
	t.Logf("kproxy start → first IPv4 sync done: %s ms, virtual and real servers then: %s; → every endpoint in IPVS: %s ms (guest clock)",
		firstMS, firstCounts, completeMS)
	ipv4 := 0
	for _, l := range res.all("initial-synced") {
		t.Logf("sync before the first change: %s", syncedFields(l))
		if strings.Contains(l, `family="IPv4"`) {
			ipv4++
		}
	}
	if ipv4 > 1 {
		t.Logf("NOTE: %d IPv4 syncs before any change: the first one did not have every object.\n%s", ipv4, firstSyncHint)
	}
	for _, l := range res.all("address-notifications") {
		t.Logf("NOTE: kproxy lost its address notifications (the next partial sync lists the addresses): %s", l)
	}
	if got, _ := strconv.Atoi(vss); got < n {
		t.Errorf("the kernel held %q virtual servers, want at least %d", vss, n)
	}
	if got, _ := strconv.Atoi(rss); got < n*scaleEndpoints {
		t.Errorf("the kernel held %q real servers, want at least %d", rss, n*scaleEndpoints)
	}
}

// firstSyncHint explains why a first sync lacks objects.
const firstSyncHint = `kproxy started syncing before its event handlers had received every object the informers had listed:
proxy/watcher.go waits for the informers' HasSynced, which turns true once the initial list is queued for the
handlers, not once they have run; the handler registrations' HasSynced (returned by AddEventHandler) is the one to wait for.`

// checkRestart checks that restarting kproxy never removed a virtual or
// real server of a service or endpoint that still exists.
func checkRestart(t *testing.T, res results) {
	line, _ := res.first("restart-counts")
	synced, _ := res.first("restart-synced")
	complete, _ := res.first("restart-complete-ms")
	t.Logf("first sync after the restart: %s; kproxy start → everything back in IPVS: %s ms", syncedFields(synced), complete)
	f := strings.Fields(line)
	if len(f) != 4 {
		t.Fatalf("guest reported restart-counts %q", line)
	}
	if f[0] != f[1] || f[2] != f[3] {
		t.Errorf("restarting kproxy took the kernel from %s virtual and %s real servers down to %s and %s before putting them back: "+
			"those services and endpoints were unreachable meanwhile\n%s", f[0], f[2], f[1], f[3], firstSyncHint)
	}
}

// maxIdlePhase bounds the time a partial sync of one remote endpoint may spend
// in a phase that should do nothing.
const maxIdlePhase = 10 * time.Millisecond

// reportSpeed logs the measurements of the rounds and checks that each was
// one partial sync touching one service, which listed no node address and
// ran no ipset or iptables-restore.
func reportSpeed(t *testing.T, res results, hostSeen []time.Duration, n int) {
	var took, calls, cmds, nl []time.Duration
	for i, seen := range hostSeen {
		r := parseRound(res, i, seen)
		if r.parseError != nil {
			t.Errorf("round %d: %v", i, r.parseError)
			continue
		}
		if r.full != "false" || r.changed != "1" || r.syncs != 1 {
			t.Errorf("round %d: %d syncs, the last full=%s changed=%s; want one partial sync of 1 service", i, r.syncs, r.full, r.changed)
		}
		for _, p := range []string{"nodeAddresses", "readKernel", "ipsets", "iptables"} {
			// A listing or a process costs tens of milliseconds under TCG; 10 ms
			// leaves room for a garbage collection landing in the phase.
			if r.phases[p] > maxIdlePhase {
				t.Errorf("round %d: the partial sync spent %v on %s; want nothing (no listing, no command)", i, r.phases[p], p)
			}
		}
		took, calls = append(took, r.took), append(calls, r.phases["ipvs"])
		cmds, nl = append(cmds, r.del+r.add), append(nl, r.nlDel+r.nlAdd)
		t.Logf("round %d: kproxy sync %v (histogram +%v; IPVS calls %v, planning %v); ipvsadm -d %v, -a %v (-Ln -t alone %v); "+
			"netlink in-process: delete %v, add %v; host update → change seen in the guest %v",
			i, ms(r.took), ms(r.metric), us(r.phases["ipvs"]), us(r.phases["plan"]), ms(r.del), ms(r.add), ms(r.list),
			us(r.nlDel), us(r.nlAdd), ms(r.hostSeen))
	}
	if len(took) > 0 {
		t.Logf("one endpoint change at %d services × %d endpoints, guest under TCG: kproxy sync median %v (max %v), its IPVS calls %v; "+
			"ipvsadm -d plus -a median %v (two process starts included); the same two calls in-process median %v",
			n, scaleEndpoints, ms(median(took)), ms(slices.Max(took)), us(median(calls)), ms(median(cmds)), us(median(nl)))
	}
}

// writeBenchResults appends the figures to $KPROXY_BENCH_RESULTS, if set, as
// "name seconds" lines (one per round for the per-change figures; kbench
// table takes medians): ipvs.vm.sync (kproxy's sync), ipvs.vm.calls (its
// IPVS calls), ipvs.vm.ipvsadm (ipvsadm -d plus -a), ipvs.vm.netlink (the
// same in one process), ipvs.vm.first (kproxy start → first sync),
// ipvs.vm.load (creating the API objects) and ipvs.vm.services.
func writeBenchResults(t *testing.T, res results, hostSeen []time.Duration, load time.Duration) {
	path := os.Getenv(envBenchResults)
	if path == "" {
		return
	}
	var b strings.Builder
	line := func(name string, v float64) { fmt.Fprintf(&b, "%s %g\n", name, v) }
	line("ipvs.vm.services", float64(scaleServices()))
	line("ipvs.vm.load", load.Seconds())
	if first, err := strconv.Atoi(mustFirst(res, "initial-sync-ms")); err == nil {
		line("ipvs.vm.first", float64(first)/1e3)
	}
	for i, seen := range hostSeen {
		r := parseRound(res, i, seen)
		if r.parseError != nil {
			continue
		}
		line("ipvs.vm.sync", r.took.Seconds())
		line("ipvs.vm.calls", r.phases["ipvs"].Seconds())
		line("ipvs.vm.ipvsadm", (r.del + r.add).Seconds())
		line("ipvs.vm.netlink", (r.nlDel + r.nlAdd).Seconds())
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = f.WriteString(b.String())
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Errorf("writing the bench results: %v", err)
	}
}

// mustFirst returns the rest of the first result line with prefix, "" if none.
func mustFirst(res results, prefix string) string {
	v, _ := res.first(prefix)
	return v
}

// median returns the middle value of ds.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// ms rounds d for the log.
func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

// us rounds a short d for the log.
func us(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

// syncedFields shortens a Synced log line to its key=value fields.
func syncedFields(line string) string {
	if _, rest, ok := strings.Cut(line, `"Synced" `); ok {
		return rest
	}
	return line
}
