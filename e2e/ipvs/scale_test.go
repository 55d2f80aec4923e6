package ipvse2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// Size of the scale test: services with endpoints each, and how many
// single-endpoint changes are timed.
const (
	scaleServices  = 1000
	scaleEndpoints = 10
	scaleRounds    = 5
)

// scaleService returns the i-th service of the scale test. Its endpoints
// are made-up addresses: nothing is sent to them.
func scaleService(i int) svcSpec {
	s := svcSpec{
		name:      fmt.Sprintf("scale-%04d", i),
		clusterIP: fmt.Sprintf("10.96.%d.%d", 1+i/200, 10+i%200),
	}
	for k := range scaleEndpoints {
		idx := i*scaleEndpoints + k
		s.endpoints = append(s.endpoints, fmt.Sprintf("10.244.%d.%d", 128+idx/250, 1+idx%250))
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
	for r := range scaleRounds {
		s := specs[r*len(specs)/scaleRounds]
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
// waits for the host's change to reach IPVS. Then it restarts kproxy
// (restart_kproxy), stops it, and makes each round's change again by hand.
func scaleScript(specs []svcSpec, rounds []scaleRound) *script {
	s := newScript(false)
	firstSyncLines(s, specs)
	for i, r := range rounds {
		s.line(`m0=$(sync_metric)`)
		s.line(`result "round %d ready"`, i)
		s.line(`wait_until 120 "round %d: %s in %s" vs_has %s %s`, i, r.new, r.svc.vip(), r.svc.vip(), r.new)
		s.line(`result "round %d synced $(last_synced)"`, i)
		s.line(`result "round %d metric $m0 $(sync_metric)"`, i)
	}
	s.line("restart_kproxy rr --ipvs-sync-period=10m")
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
	s.line(`t0=$(uptime_ms)`)
	s.line("start_kproxy rr --ipvs-sync-period=10m")
	s.line(`wait_until 600 "kproxy's first IPv4 sync" grep -q '"Synced" family="IPv4"' "$KPROXY_LOG"`)
	s.line(`result "initial-sync-ms $(($(uptime_ms) - t0))"`)
	s.line(`result "initial-counts $(vs_count) $(rs_count)"`)
	s.line(`wait_until 600 "every service and endpoint in IPVS" counts_at_least %d %d`, len(specs), len(specs)*scaleEndpoints)
	s.line(`result "complete-ms $(($(uptime_ms) - t0))"`)
	s.line(`[ ! -e /proc/net/if_inet6 ] || wait_until 600 "kproxy's first IPv6 sync" grep -q '"Synced" family="IPv6"' "$KPROXY_LOG"`)
	s.line(`result "virtual-servers $(vs_count)"`)
	s.line(`result "real-servers $(rs_count)"`)
	s.line(`grep '"Synced"' "$KPROXY_LOG" | sed 's/^/KPROXY-RESULT initial-synced /'`)
}

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
// endpoints each. It measures how long kproxy takes to apply one endpoint
// change (its sync duration: from the change being seen to IPVS updated),
// next to the time ipvsadm takes for the same change, and checks that a
// kproxy restart leaves every virtual server in place.
func TestIPVSAtScale(t *testing.T) {
	e := getEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var specs []svcSpec
	for i := range scaleServices {
		specs = append(specs, scaleService(i))
	}
	rounds := roundsOf(specs)
	start := time.Now()
	mustCreate(t, e.cp.Kube, specs)
	t.Logf("created %d Services with %d endpoints each in %v", scaleServices, scaleEndpoints, time.Since(start).Round(100*time.Millisecond))

	g := bootGuest(t, ctx, e, scaleScript(specs, rounds), "1G", 6*time.Minute)
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
	t.Run("kproxy programs every service and endpoint", func(t *testing.T) { checkFirstSync(t, res) })
	t.Run("one endpoint change: kproxy and ipvsadm", func(t *testing.T) { reportSpeed(t, res, hostSeen) })
	t.Run("a restart keeps every virtual and real server", func(t *testing.T) { checkRestart(t, res) })
}
