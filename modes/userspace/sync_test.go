package userspace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

func TestSetupAddsJumpsOnce(t *testing.T) {
	b := newTestBackend(t)
	if err := b.Setup(context.Background()); err != nil { // a second time
		t.Fatal(err)
	}
	want := map[string][]string{
		"nat PREROUTING": {chainPortalsContainer, chainNodePortContainer},
		"nat OUTPUT":     {chainPortalsHost, chainNodePortHost},
		"filter INPUT":   {chainNodePortNonLocal},
	}
	for where, targets := range want {
		table, chain, _ := strings.Cut(where, " ")
		var got []string
		for _, r := range b.fake.Rules(iptables.Table(table), chain) {
			got = append(got, r.Target)
		}
		if !slices.Equal(got, targets) {
			t.Errorf("%s jumps to %v, want %v", where, got, targets)
		}
	}
}

func TestSyncIsIdempotent(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	snap := snapshot(newService(web, "172.30.0.10", eps))
	b.sync(t, snap, full)
	dump := b.fake.Dump()
	in, _, _ := b.ListenerPorts(web)
	b.sync(t, snap, full)
	b.sync(t, snap, changed(web))
	if got := b.fake.Dump(); got != dump {
		t.Errorf("rules changed by the same snapshot:\n%s\nwas:\n%s", got, dump)
	}
	if again, _, _ := b.ListenerPorts(web); again != in {
		t.Errorf("listener moved from %d to %d", in, again)
	}
}

func TestPartialSyncSkipsUnchangedPortals(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
	restores := b.fake.Restores()
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps[:1])), changed(web))
	if b.fake.Restores() != restores {
		t.Error("an endpoint change ran iptables-restore")
	}
	other := spName("ns", "other", v1.ProtocolTCP)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps[:1]), newService(other, "172.30.0.11", eps)), changed(other))
	if b.fake.Restores() != restores+1 {
		t.Errorf("adding a service ran %d restores, want 1", b.fake.Restores()-restores)
	}
}

func TestFailedRestoreIsRepaired(t *testing.T) {
	_, eps := threeServers(t)
	fake := iptablestest.New(iptables.IPv4)
	faulty := iptablestest.NewFaulty(fake)
	b := newTestBackend(t, func(o *Options) { o.IPTables = faulty; o.PortRange = freeRange(t, 3) })
	a, bb, c, d := spName("ns", "a", v1.ProtocolTCP), spName("ns", "b", v1.ProtocolTCP), spName("ns", "c", v1.ProtocolTCP), spName("ns", "d", v1.ProtocolTCP)
	svc := func(n proxy.ServicePortName, ip string) *proxy.Service { return newService(n, ip, eps) }
	b.sync(t, snapshot(svc(a, "172.30.0.1")), full)
	portA, _, _ := b.ListenerPorts(a)

	faulty.FailNext(1)
	err := b.Sync(context.Background(), snapshot(svc(bb, "172.30.0.2")), changed(a, bb))
	var re *iptables.RestoreError
	if !errors.As(err, &re) {
		t.Fatalf("Sync = %v, want the restore error", err)
	}
	// The kernel still sends a's traffic to a's old port: no one may take it
	// until a restore has gone through.
	b.sync(t, snapshot(svc(bb, "172.30.0.2"), svc(c, "172.30.0.3")), full)
	for _, n := range []proxy.ServicePortName{bb, c} {
		if p, _, _ := b.ListenerPorts(n); p == portA {
			t.Errorf("%s got port %d before the rules pointing at it were gone", n, p)
		}
	}
	b.sync(t, snapshot(svc(bb, "172.30.0.2"), svc(c, "172.30.0.3"), svc(d, "172.30.0.4")), changed(d))
	if p, _, _ := b.ListenerPorts(d); p != portA {
		t.Errorf("d got port %d, want the released %d", p, portA)
	}
	fresh := newTestBackend(t)
	fresh.sync(t, snapshot(svc(bb, "172.30.0.2"), svc(c, "172.30.0.3"), svc(d, "172.30.0.4")), full)
	if got, want := withoutPorts(fake.Dump()), withoutPorts(fresh.fake.Dump()); got != want {
		t.Errorf("rules after repair:\n%s\nwant:\n%s", got, want)
	}
}

func TestExhaustedRangeReportsTheServicePort(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t, func(o *Options) { o.PortRange = freeRange(t, 1) })
	a, c := spName("ns", "a", v1.ProtocolTCP), spName("ns", "c", v1.ProtocolTCP)
	err := b.Sync(context.Background(), snapshot(newService(a, "172.30.0.1", eps), newService(c, "172.30.0.3", eps)), full)
	if err == nil || !strings.Contains(err.Error(), "ns/c:p") || !errors.Is(err, errPortsExhausted) {
		t.Fatalf("Sync = %v, want the exhausted range reported for ns/c:p", err)
	}
	// The other service port is proxied all the same.
	dial(t, b.addr(t, a), netip.Addr{}).echo(t, "ok")
	if rules := b.fake.Rules("nat", chainPortalsContainer); len(rules) != 1 {
		t.Errorf("%d cluster IP portals, want 1", len(rules))
	}
}

func TestCanaryAndResync(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	snap := snapshot(newService(web, "172.30.0.10", eps))
	b.sync(t, snap, full)
	want := b.fake.Dump()
	if present, err := b.CheckCanary(context.Background()); !present || err != nil {
		t.Fatalf("CheckCanary = %v, %v before any flush, want present", present, err)
	}
	flush := "*nat\n-F\n-X\nCOMMIT\n*filter\n-F\n-X\nCOMMIT\n"
	if err := b.fake.Restore(context.Background(), []byte(flush)); err != nil {
		t.Fatal(err)
	}
	if present, err := b.CheckCanary(context.Background()); present || err != nil {
		t.Fatalf("CheckCanary = %v, %v after a flush, want gone", present, err)
	}
	// Even a partial sync repairs: the backend no longer trusts what it applied.
	b.sync(t, snap, changed())
	if got := b.fake.Dump(); got != want {
		t.Errorf("rules after the resync:\n%s\nwant:\n%s", got, want)
	}
}

func TestCleanupRemovesEverything(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
	for range 2 { // a second cleanup finds nothing and is fine
		if err := b.Cleanup(context.Background()); err != nil {
			t.Fatal(err)
		}
		if dump := b.fake.Dump(); dump != "" {
			t.Errorf("left after cleanup:\n%s", dump)
		}
	}
}

func TestSyncRejectsBadInput(t *testing.T) {
	b := newTestBackend(t)
	v6 := snapshot()
	v6.Family = v1.IPv6Protocol
	if err := b.Sync(context.Background(), v6, full); err == nil {
		t.Error("an IPv6 snapshot was accepted by an IPv4 backend")
	}
	sctp := newService(spName("ns", "sctp", v1.ProtocolSCTP), "172.30.0.9", nil)
	b.sync(t, snapshot(sctp), full)
	if _, _, ok := b.ListenerPorts(sctp.Name); ok {
		t.Error("an SCTP port got a listener")
	}
	_ = b.Close()
	if err := b.Sync(context.Background(), snapshot(), full); !errors.Is(err, errClosed) {
		t.Errorf("Sync after Close = %v, want errClosed", err)
	}
}

func TestNewDefaults(t *testing.T) {
	b, err := New(Options{Family: v1.IPv6Protocol, IPTables: iptablestest.New(iptables.IPv6),
		BindAddress: netip.MustParseAddr("0.0.0.0")})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
	if !slices.Equal(b.cfg.dialTimeouts, want) {
		t.Errorf("dial timeouts %v, want kube-proxy's %v", b.cfg.dialTimeouts, want)
	}
	if b.cfg.udpTimeout != DefaultUDPIdleTimeout {
		t.Errorf("UDP idle timeout %v, want %v", b.cfg.udpTimeout, DefaultUDPIdleTimeout)
	}
	if b.BindAddress() != netip.IPv6Unspecified() || !b.cfg.bindAny {
		t.Errorf("IPv6 backend bound to %s for --bind-address=0.0.0.0, want ::", b.BindAddress())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	fake := iptablestest.New(iptables.IPv4)
	for _, o := range []Options{
		{Family: "IPv5", IPTables: fake},
		{Family: v1.IPv6Protocol, IPTables: fake},
		{Family: v1.IPv4Protocol, IPTables: fake, PortRange: PortRange{Base: 65535, Size: 2}},
		{Family: v1.IPv4Protocol, IPTables: fake, UDPIdleTimeout: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// TestRandomTransitions walks random changes of services and endpoints with
// partial syncs, checking after each that every service port has a listener
// balancing over its endpoints and reached from its cluster IP, and at the end
// that the rules equal a fresh backend's full sync of the last state.
func TestRandomTransitions(t *testing.T) {
	_, eps := threeServers(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	b := newTestBackend(t)
	b.sync(t, snapshot(), full)
	current := map[proxy.ServicePortName]*proxy.Service{}
	tr := iptablestest.NewTracer(b.fake, iptablestest.Node{})
	for step := range 200 {
		idx, proto := rnd.IntN(6), rnd.IntN(2)
		name := spName("ns", fmt.Sprintf("s%d", idx), []v1.Protocol{v1.ProtocolTCP, v1.ProtocolUDP}[proto])
		if rnd.IntN(4) == 0 {
			delete(current, name)
		} else {
			var some []netip.AddrPort
			for _, ep := range eps {
				if rnd.IntN(2) == 0 {
					some = append(some, ep)
				}
			}
			current[name] = newService(name, fmt.Sprintf("172.30.%d.%d", rnd.IntN(2), 10+2*idx+proto), some)
		}
		snap := snapshot(slices.Collect(mapValues(current))...)
		b.sync(t, snap, changed(name))
		if n := len(b.services); n != len(current) {
			t.Fatalf("step %d: %d proxied service ports, want %d", step, n, len(current))
		}
		for n, svc := range current {
			p := iptablestest.Packet{Source: netip.MustParseAddr("10.0.1.100"), SourcePort: 4000,
				Protocol: protoName(n.Protocol), Dest: svc.ClusterIP, DestPort: 80}
			outs, err := tr.Trace(p)
			in, _, _ := b.ListenerPorts(n)
			if err != nil || len(outs) != 1 || int(outs[0].To.Port()) != in {
				t.Fatalf("step %d: %s's cluster IP traced to %v (%v), want its listener %d", step, n, outs, err, in)
			}
			if got, want := endpointsOf(b.services[n].internal), addrPorts(svc.Endpoints.Cluster); !slices.Equal(got, want) {
				t.Fatalf("step %d: %s balances over %v, want %v", step, n, got, want)
			}
		}
	}
	fresh := iptablestest.New(iptables.IPv4)
	if err := fresh.Restore(context.Background(), b.fullPayload(t, snapshot(slices.Collect(mapValues(current))...))); err != nil {
		t.Fatal(err)
	}
	if err := ensureJumps(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	if got, want := b.fake.Dump(), fresh.Dump(); got != want {
		t.Errorf("rules after the walk:\n%s\nwant a fresh full sync's:\n%s", got, want)
	}
}
