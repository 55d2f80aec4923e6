package userspace

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// fullPayload renders what a full sync of snap would restore, with the
// backend's current listeners.
func (tb *testBackend) fullPayload(t *testing.T, snap *proxy.Snapshot) []byte {
	t.Helper()
	var portals []portal
	for _, name := range snap.Sorted() {
		if sp := tb.services[name]; sp != nil {
			if pt, ok := sp.portal(snap.Services[name]); ok {
				portals = append(portals, pt)
			}
		}
	}
	var p iptables.Payload
	renderPortals(&p, tb.portalConfig(snap), portals)
	data, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// recorder is an iptables.Restorer that keeps the payload of every restore.
type recorder struct {
	*iptablestest.Fake
	payloads []string
}

func (r *recorder) Restore(ctx context.Context, payload []byte) error {
	r.payloads = append(r.payloads, string(payload))
	return r.Fake.Restore(ctx, payload)
}

// last returns the payload of the last restore.
func (r *recorder) last() string {
	if len(r.payloads) == 0 {
		return ""
	}
	return r.payloads[len(r.payloads)-1]
}

// TestPartialSyncWritesOnlyChangedServices changes one service port among
// several in ways that move its rules around, and checks after each partial
// sync that the restore named only that service port, declared no chain, and
// left the chains exactly as a full sync of the same state would.
func TestPartialSyncWritesOnlyChangedServices(t *testing.T) {
	_, eps := threeServers(t)
	rec := &recorder{Fake: iptablestest.New(iptables.IPv4)}
	b := newTestBackend(t, func(o *Options) { o.IPTables = rec })
	names := make([]proxy.ServicePortName, 5)
	svcs := map[proxy.ServicePortName]*proxy.Service{}
	for i := range names {
		names[i] = spName("ns", fmt.Sprintf("s%d", i), v1.ProtocolTCP)
		svcs[names[i]] = newService(names[i], fmt.Sprintf("172.30.0.%d", 10+i), eps,
			withNodePort(30010+i), withExternalIPs("203.0.113.1"))
	}
	snap := func() *proxy.Snapshot {
		s := snapshot()
		for _, svc := range svcs {
			s.Services[svc.Name] = svc
		}
		s.Node.IPs = []netip.Addr{nodeIP}
		return s
	}
	b.sync(t, snap(), full)

	mid := names[2]
	steps := []struct {
		name   string
		change func()
		target proxy.ServicePortName
	}{
		{"cluster IP changed", func() { svcs[mid].ClusterIP = netip.MustParseAddr("172.30.1.99") }, mid},
		{"node port removed", func() { svcs[mid].NodePort = 0 }, mid},
		{"node port back", func() { svcs[mid].NodePort = 30099 }, mid},
		{"external IP added", func() {
			svcs[mid].ExternalIPs = append(svcs[mid].ExternalIPs, netip.MustParseAddr("203.0.113.2"))
		}, mid},
		{"first service removed", func() { delete(svcs, names[0]) }, names[0]},
		{"service added in the middle", func() {
			n := spName("ns", "s2a", v1.ProtocolTCP)
			svcs[n] = newService(n, "172.30.0.50", eps, withNodePort(30050))
		}, spName("ns", "s2a", v1.ProtocolTCP)},
		{"last service removed", func() { delete(svcs, names[4]) }, names[4]},
	}
	for _, step := range steps {
		step.change()
		restores := len(rec.payloads)
		b.sync(t, snap(), changed(step.target))
		if len(rec.payloads) != restores+1 {
			t.Fatalf("%s: %d restores, want 1", step.name, len(rec.payloads)-restores)
		}
		payload := rec.last()
		for _, line := range strings.Split(strings.TrimSpace(payload), "\n") {
			switch {
			case strings.HasPrefix(line, ":"):
				t.Errorf("%s: the partial sync declared (flushed) a chain: %s", step.name, line)
			case strings.HasPrefix(line, "-"):
				if !strings.Contains(line, "--comment "+step.target.String()+" ") {
					t.Errorf("%s: the partial sync wrote another service port's rule: %s", step.name, line)
				}
			}
		}
		fresh := iptablestest.New(iptables.IPv4)
		if err := fresh.Restore(context.Background(), b.fullPayload(t, snap())); err != nil {
			t.Fatal(err)
		}
		if err := ensureJumps(context.Background(), fresh); err != nil {
			t.Fatal(err)
		}
		if got, want := rec.Dump(), fresh.Dump(); got != want {
			t.Fatalf("%s: after the partial sync\n%s\nwant what a full sync writes:\n%s\npayload:\n%s", step.name, got, want, payload)
		}
	}
	// An endpoint change touches no portal: no restore at all.
	restores := len(rec.payloads)
	svcs[mid] = newService(mid, svcs[mid].ClusterIP.String(), eps[:1], withNodePort(30099),
		withExternalIPs("203.0.113.1", "203.0.113.2"))
	b.sync(t, snap(), changed(mid))
	if len(rec.payloads) != restores {
		t.Errorf("an endpoint change ran a restore:\n%s", rec.last())
	}
}

// TestPartialSyncRepairsRulesDeletedByHand deletes a service port's rule behind
// the backend's back: the next partial sync touching that service port fails
// to delete it, and the one after it is full and repairs the chains.
func TestPartialSyncRepairsRulesDeletedByHand(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	a, c := spName("ns", "a", v1.ProtocolTCP), spName("ns", "c", v1.ProtocolTCP)
	b.sync(t, snapshot(newService(a, "172.30.0.1", eps), newService(c, "172.30.0.3", eps)), full)
	if err := b.fake.Restore(context.Background(), []byte("*nat\n-F "+chainPortalsHost+"\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	snap := snapshot(newService(a, "172.30.0.2", eps), newService(c, "172.30.0.3", eps))
	if err := b.Sync(context.Background(), snap, changed(a)); err == nil {
		t.Fatal("the partial sync deleted a rule that was not there")
	}
	b.sync(t, snap, changed(c))
	fresh := iptablestest.New(iptables.IPv4)
	if err := fresh.Restore(context.Background(), b.fullPayload(t, snap)); err != nil {
		t.Fatal(err)
	}
	if err := ensureJumps(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	if got, want := b.fake.Dump(), fresh.Dump(); got != want {
		t.Errorf("after the repair\n%s\nwant\n%s", got, want)
	}
}

// withNodePort sets the node port.
func withNodePort(port int) svcOpt {
	return func(s *proxy.Service) { s.NodePort = uint16(port) }
}

// withExternalIPs sets the external IPs.
func withExternalIPs(ips ...string) svcOpt {
	return func(s *proxy.Service) {
		s.ExternalIPs = nil
		for _, ip := range ips {
			s.ExternalIPs = append(s.ExternalIPs, netip.MustParseAddr(ip))
		}
	}
}
