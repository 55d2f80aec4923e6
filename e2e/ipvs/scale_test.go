package ipvse2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Size of the scale test: endpoints per service, and how many
// single-endpoint changes are timed (twice as many above 1,000 services, for
// make bench's medians). The number of services is scaleServices().
const (
	scaleEndpoints = 10
	scaleRounds    = 5
)

// scaleRoundCount returns how many changes are timed for n services.
func scaleRoundCount(n int) int {
	if n > 1000 {
		return 2 * scaleRounds
	}
	return scaleRounds
}

// envScale sets the number of services of TestIPVSAtScale (default
// 1,000; make bench runs 10,000, up to 12,000), and envBenchResults a file
// the test appends its figures to, as "name value" lines for kbench table.
const (
	envScale        = "KPROXY_IPVS_SCALE"
	envBenchResults = "KPROXY_BENCH_RESULTS"
	maxScale        = 12_000 // the cluster-IP scheme's limit
)

// scaleServices returns the number of services of the scale test.
func scaleServices() int {
	if n, err := strconv.Atoi(os.Getenv(envScale)); err == nil && n >= 2*scaleRounds && n <= maxScale {
		return n
	}
	return 1000
}

// scaleFactor is how many times bigger than 1,000 services the test is,
// at least 1: timeouts grow with it.
func scaleFactor() int { return max(1, (scaleServices()+999)/1000) }

// scaleNode is the node of the scale test's endpoints: not the guest, as
// on a real node, which hosts a hundred pods, not 100,000. (A change of a
// local endpoint also changes the KUBE-LOOP-BACK ipset: one ipset restore
// more.)
const scaleNode = "kproxy-vm-other"

// scaleService returns the i-th service of the scale test. Its endpoints
// are made-up addresses in 10.128.0.0/15 on another node: nothing is sent
// to them.
func scaleService(i int) svcSpec {
	s := svcSpec{
		name:      fmt.Sprintf("scale-%05d", i),
		clusterIP: fmt.Sprintf("10.96.%d.%d", 1+i/200, 10+i%200),
		node:      scaleNode,
	}
	for k := range scaleEndpoints {
		idx := i*scaleEndpoints + k
		s.endpoints = append(s.endpoints, fmt.Sprintf("10.%d.%d.%d", 128+idx/62500, idx/250%250, 1+idx%250))
	}
	return s
}

// scaleRound is one timed change: the last endpoint of svc is replaced.
type scaleRound struct {
	svc      svcSpec
	old, new string // real servers, ip:port
}

// roundsOf returns the timed changes, spread over the services.
func roundsOf(specs []svcSpec) []scaleRound {
	var rounds []scaleRound
	n := scaleRoundCount(len(specs))
	for r := range n {
		s := specs[r*len(specs)/n]
		rounds = append(rounds, scaleRound{
			svc: s,
			old: fmt.Sprintf("%s:%d", s.endpoints[len(s.endpoints)-1], targetPort),
			new: fmt.Sprintf("10.244.250.%d:%d", r+1, targetPort),
		})
	}
	return rounds
}

// newEndpoints are the round's service's endpoints after the change.
func (r scaleRound) newEndpoints() []string {
	eps := slices.Clone(r.svc.endpoints)
	eps[len(eps)-1] = netip.MustParseAddrPort(r.new).Addr().String()
	return eps
}

// scaleScript starts kproxy on a node that has the scale services already,
// waits for the first syncs, then for each round says "round N ready" and
// waits for the host's change to reach IPVS. Then, when restart, it
// restarts kproxy (restart_kproxy); it stops it and makes each round's
// change again by hand.
func scaleScript(specs []svcSpec, rounds []scaleRound, restart bool) *script {
	s := newScript(false)
	firstSyncLines(s, specs)
	for i, r := range rounds {
		s.line(`m0=$(sync_metric)`)
		s.line(`result "round %d ready"`, i)
		s.line(`wait_until 120 "round %d: %s in %s" vs_has %s %s`, i, r.new, r.svc.vip(), r.svc.vip(), r.new)
		s.line(`result "round %d synced $(last_synced)"`, i)
		s.line(`result "round %d phases $(grep '"IPVS sync phases" family="IPv4"' "$KPROXY_LOG" | tail -n 1)"`, i)
		s.line(`result "round %d metric $m0 $(sync_metric)"`, i)
	}
	if restart {
		s.line("restart_kproxy rr %s", kproxyScaleFlags)
	}
	s.line("stop_kproxy")
	for i, r := range rounds {
		byHandLines(s, i, r)
	}
	s.line(`result "done"`)
	return s
}

// firstSyncLines start kproxy and wait until the kernel holds every
// service and endpoint and both families have synced once; the rounds must
// not overlap with the IPv6 backend's first sync (no services, but it reads
// the kernel's whole table).
func firstSyncLines(s *script, specs []svcSpec) {
	limit := 600 * scaleFactor()
	s.line(`t0=$(uptime_ms)`)
	s.line("start_kproxy rr %s", kproxyScaleFlags)
	s.line(`wait_until %d "kproxy's first IPv4 sync" grep -q '"Synced" family="IPv4"' "$KPROXY_LOG"`, limit)
	s.line(`result "initial-sync-ms $(($(uptime_ms) - t0))"`)
	s.line(`result "initial-counts $(vs_count) $(rs_count)"`)
	s.line(`wait_until %d "every service and endpoint in IPVS" counts_at_least %d %d`, limit, len(specs), len(specs)*scaleEndpoints)
	s.line(`result "complete-ms $(($(uptime_ms) - t0))"`)
	s.line(`[ ! -e /proc/net/if_inet6 ] || wait_until %d "kproxy's first IPv6 sync" grep -q '"Synced" family="IPv6"' "$KPROXY_LOG"`, limit)
	s.line(`grep 'Address notifications' "$KPROXY_LOG" | sed 's/^/KPROXY-RESULT address-notifications /'`)
	s.line(`result "virtual-servers $(vs_count)"`)
	s.line(`result "real-servers $(rs_count)"`)
	s.line(`grep '"Synced"' "$KPROXY_LOG" | sed 's/^/KPROXY-RESULT initial-synced /'`)
}

// kproxyScaleFlags: no periodic full sync interferes with the rounds, and
// -v=4 logs the phases of each sync ("IPVS sync phases").
const kproxyScaleFlags = "--ipvs-sync-period=10m -v=4"

// byHandLines make round i's change again with kproxy stopped: back with
// ipvsadm -d and -a, timing each command (and a bare ipvsadm -Ln -t for the
// cost of starting ipvsadm), then forth from one process through netlink
// (kpguest swap).
func byHandLines(s *script, i int, r scaleRound) {
	vip := r.svc.vip()
	s.line(`l=$(kpguest elapsed ipvsadm -Ln -t %s 2>/dev/null)`, vip)
	s.line(`d=$(kpguest elapsed ipvsadm -d -t %s -r %s)`, vip, r.new)
	s.line(`a=$(kpguest elapsed ipvsadm -a -t %s -r %s -m -w 1)`, vip, r.old)
	s.line(`result "ipvsadm %d $l $d $a"`, i)
	s.line(`vs_has %s %s || die "ipvsadm -a did not add %s"`, vip, r.old, r.old)
	s.line(`result "netlink %d $(kpguest swap %s %s %s)"`, i, vip, r.old, r.new)
	s.line(`vs_has %s %s || die "kpguest swap did not add %s"`, vip, r.new, r.new)
}

// TestIPVSAtScale runs kproxy in the VM against 1,000 services of 10
// endpoints each (KPROXY_IPVS_SCALE services: make bench runs 10,000). It
// measures how long kproxy takes to apply one endpoint change (its sync
// duration: from the change being seen to IPVS updated, and the IPVS calls
// alone), next to the time ipvsadm takes for the same change, and checks
// that a kproxy restart leaves every virtual server in place (at 1,000
// services or fewer: at 10,000 the restart alone takes minutes under TCG).
func TestIPVSAtScale(t *testing.T) {
	e := getEnv(t)
	n, f := scaleServices(), time.Duration(scaleFactor())
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute*f)
	defer cancel()
	var specs []svcSpec
	for i := range n {
		specs = append(specs, scaleService(i))
	}
	rounds := roundsOf(specs)
	start := time.Now()
	createScale(t, e.cp.Kube, specs)
	load := time.Since(start)
	t.Logf("created %d Services with %d endpoints each in %v", n, scaleEndpoints, load.Round(100*time.Millisecond))

	restart := n <= 1000
	g := bootGuest(t, ctx, e, scaleScript(specs, rounds, restart), scaleMemory(n), 6*time.Minute*f)
	var hostSeen []time.Duration
	for i, r := range rounds {
		g.await(ctx, fmt.Sprintf("round %d ready", i))
		t0 := time.Now()
		if err := setEndpoints(ctx, e.cp.Kube, r.svc, r.newEndpoints()); err != nil {
			t.Fatalf("round %d: updating the EndpointSlice of %s: %v", i, r.svc.name, err)
		}
		g.await(ctx, fmt.Sprintf("round %d synced", i))
		hostSeen = append(hostSeen, time.Since(t0))
	}
	res, _ := g.finish()
	t.Logf("scale test took %v", time.Since(start).Round(100*time.Millisecond))
	t.Run("kproxy programs every service and endpoint", func(t *testing.T) { checkFirstSync(t, res, n) })
	t.Run("one endpoint change: kproxy and ipvsadm", func(t *testing.T) {
		reportSpeed(t, res, hostSeen, n)
		writeBenchResults(t, res, hostSeen, load)
	})
	if restart {
		t.Run("a restart keeps every virtual and real server", func(t *testing.T) { checkRestart(t, res) })
	}
}

// createScale creates the Node and the services. Up to 1,000 services they
// are deleted when the test ends, so later tests of the package do not sync
// them; more are left to the control plane's teardown (make bench runs this
// test alone), which saves minutes.
func createScale(t *testing.T, kube kubernetes.Interface, specs []svcSpec) {
	t.Helper()
	if len(specs) <= 1000 {
		mustCreate(t, kube, specs)
		return
	}
	ctx := context.Background()
	if err := ensureNode(ctx, kube); err != nil {
		t.Fatalf("creating Node %s: %v", nodeName, err)
	}
	if err := createServices(ctx, kube, specs, 8); err != nil {
		t.Fatal(err)
	}
}

// scaleMemory is the VM's memory for n services: kproxy's informers and the
// kernel's 10 real servers per service.
func scaleMemory(n int) string {
	if n <= 1000 {
		return "1G"
	}
	return "3G"
}
