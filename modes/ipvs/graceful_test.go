package ipvsmode_test

import (
	"context"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/modes/ipvs/ipvstest"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// graceful is a backend syncing one service whose endpoints a test changes.
type graceful struct {
	t     *testing.T
	k     *kernel
	b     *ipvsmode.Backend
	pb    *packetflow.Builder
	clock interface{ Step(time.Duration) }
	proto v1.Protocol
}

func newGraceful(t *testing.T, proto v1.Protocol) *graceful {
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	clk := newClock()
	g := &graceful{t: t, k: k, clock: clk, proto: proto, pb: packetflow.NewBuilder(node).Node("", "192.168.0.10"),
		b: newBackend(t, k, func(o *ipvsmode.Options) { o.Clock = clk })}
	g.pb.Service(packetflow.NewService("ns", "web", "172.30.0.10", packetflow.Port("p", proto, 80, 0)))
	g.endpoints("10.0.2.1", "10.0.2.2")
	return g
}

// endpoints sets the service's endpoints and syncs.
func (g *graceful) endpoints(ips ...string) {
	g.t.Helper()
	g.pb.Slice(packetflow.NewSlice("ns", "web", "web-1", v1.IPv4Protocol, "p", g.proto, 8080, eps(nil, ips...)...))
	g.sync()
}

// sync syncs what changed (maybe nothing: a periodic sync).
func (g *graceful) sync() {
	g.t.Helper()
	snap, changes := g.pb.Snapshot(v1.IPv4Protocol)
	mustSync(g.t, g.b, snap, changes)
}

// connections sets the connection counts of a real server.
func (g *graceful) connections(rs string, active, inactive int) {
	g.t.Helper()
	vs := ipvstest.Key{Protocol: ipvstest.ProtocolNumber(string(g.proto)), Addr: ip("172.30.0.10"), Port: 80}
	if err := g.k.ipvs.SetConnections(vs, mustAddrPort(rs), active, inactive); err != nil {
		g.t.Fatal(err)
	}
}

// expect checks the real servers, "@0" marking weight 0.
func (g *graceful) expect(when, want string) {
	g.t.Helper()
	if got := compact(g.k.ipvs.Dump()); got != want {
		g.t.Errorf("%s: %s, want %s", when, got, want)
	}
}

func TestGracefulTermination(t *testing.T) {
	g := newGraceful(t, v1.ProtocolTCP)
	g.connections("10.0.2.2:8080", 2, 1)
	g.endpoints("10.0.2.1")
	g.expect("removed with connections", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080@0")
	tr := ipvstest.NewTracer(g.k.ipvs, g.k.ipt, g.k.sets, g.k.nl, 0x4000)
	outs, err := tr.Trace(ipvstest.Packet{Source: ip("10.0.1.100"), Protocol: "tcp", Dest: ip("172.30.0.10"), Port: 80})
	if err != nil || len(outs) != 1 || outs[0].String() != "10.0.2.1:8080" {
		t.Errorf("new connections go to %v (%v), want only 10.0.2.1:8080", outs, err)
	}
	g.sync()
	g.expect("later sync, connections left", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080@0")
	g.connections("10.0.2.2:8080", 0, 0)
	g.sync()
	g.expect("connections ended", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080")
}

func TestGracefulTerminationDeadline(t *testing.T) {
	g := newGraceful(t, v1.ProtocolTCP)
	g.connections("10.0.2.2:8080", 1, 0)
	g.endpoints("10.0.2.1")
	g.clock.Step(ipvsmode.DefaultGracePeriod - time.Second)
	g.sync()
	g.expect("before the deadline", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080@0")
	g.clock.Step(time.Second)
	g.sync()
	g.expect("at the deadline", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080")
}

func TestGracefulTerminationUDPIsImmediate(t *testing.T) {
	g := newGraceful(t, v1.ProtocolUDP)
	g.connections("10.0.2.2:8080", 0, 5)
	g.endpoints("10.0.2.1")
	g.expect("UDP real server removed", "UDP 172.30.0.10:80 rr -> 10.0.2.1:8080")
}

func TestGracefulTerminationWithoutConnectionsIsImmediate(t *testing.T) {
	g := newGraceful(t, v1.ProtocolSCTP)
	g.endpoints("10.0.2.1")
	g.expect("removed without connections", "SCTP 172.30.0.10:80 rr -> 10.0.2.1:8080")
}

func TestGracefulTerminationEndpointBack(t *testing.T) {
	g := newGraceful(t, v1.ProtocolTCP)
	g.connections("10.0.2.2:8080", 1, 0)
	g.endpoints("10.0.2.1")
	g.endpoints("10.0.2.1", "10.0.2.2")
	g.expect("endpoint back", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080")
	g.connections("10.0.2.2:8080", 0, 0)
	g.sync()
	g.expect("its old connections ended", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080")
}

// TestGracefulTerminationSurvivesFullSync: after a restart-like full sync the
// draining real server is found at weight 0 and still waits for its connections.
func TestGracefulTerminationSurvivesFullSync(t *testing.T) {
	g := newGraceful(t, v1.ProtocolTCP)
	g.connections("10.0.2.2:8080", 1, 0)
	g.endpoints("10.0.2.1")
	snap, _ := g.pb.Snapshot(v1.IPv4Protocol)
	mustSync(t, g.b, snap, proxy.Changes{Full: true})
	g.expect("after a full sync", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080@0")
	// A new process finds it too, and drains it again.
	b2 := newBackend(t, g.k, nil)
	if err := b2.Sync(context.Background(), snap, proxy.Changes{Full: true}); err != nil {
		t.Fatal(err)
	}
	g.expect("after a restart", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080 10.0.2.2:8080@0")
	g.connections("10.0.2.2:8080", 0, 0)
	if err := b2.Sync(context.Background(), snap, proxy.Changes{}); err != nil {
		t.Fatal(err)
	}
	g.expect("connections ended", "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080")
}
