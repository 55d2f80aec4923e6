package userspace

import (
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"
)

var web = spName("ns", "web", v1.ProtocolTCP)

// threeServers starts servers a, b and c on 127.0.0.1-3 (endpoints are told
// apart by address) and returns them with their addresses, sorted as the
// snapshot sorts endpoints.
func threeServers(t *testing.T) ([]*server, []netip.AddrPort) {
	var ss []*server
	var eps []netip.AddrPort
	for i, id := range []string{"a", "b", "c"} {
		s := startServer(t, "127.0.0."+string(rune('1'+i)), id)
		ss = append(ss, s)
		eps = append(eps, s.addr)
	}
	return ss, eps
}

func TestRoundRobinOverLoopback(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
	addr := b.addr(t, web)
	var got []string
	for range 6 {
		c := dial(t, addr, netip.Addr{})
		c.echo(t, "ping")
		got = append(got, c.id)
		_ = c.Close()
	}
	if want := []string{"a", "b", "c", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("connections went to %v, want %v", got, want)
	}
}

func TestAffinityOverLoopback(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps, withAffinity(time.Hour))), full)
	addr := b.addr(t, web)
	clients := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.5")}
	seen := map[netip.Addr][]string{}
	for range 4 {
		for _, src := range clients {
			c := dial(t, addr, src)
			seen[src] = append(seen[src], c.id)
			_ = c.Close()
		}
	}
	want := map[netip.Addr][]string{clients[0]: {"a", "a", "a", "a"}, clients[1]: {"b", "b", "b", "b"}}
	for src, ids := range seen {
		if !slices.Equal(ids, want[src]) {
			t.Errorf("client %s reached %v, want %v", src, ids, want[src])
		}
	}
}

func TestDialFailureTriesTheNextEndpoint(t *testing.T) {
	dead := closedPort(t, "127.0.0.1")
	live := startServer(t, "127.0.0.2", "live")
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{dead, live.addr}, withAffinity(time.Hour))), full)
	addr := b.addr(t, web)
	for i := range 3 {
		if c := dial(t, addr, netip.Addr{}); c.id != "live" {
			t.Errorf("connection %d reached %q, want the live endpoint", i, c.id)
		}
	}
	// Only the first connection tried the dead endpoint: its affinity moved.
	if n := testutil.ToFloat64(b.metrics.dials.WithLabelValues("IPv4", web.String())); n != 1 {
		t.Errorf("dial failures = %v, want 1", n)
	}
}

func TestNoEndpointsResetsConnections(t *testing.T) {
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", nil)), full)
	for range 3 {
		c, err := net.Dial("tcp", b.addr(t, web).String())
		if err != nil { // the reset came before connect returned
			if !strings.Contains(err.Error(), "reset") {
				t.Errorf("dial: %v, want a reset", err)
			}
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "reset") {
			t.Errorf("read = %v, want the connection reset at once", err)
		}
		c.Close()
	}
}

func TestHalfClose(t *testing.T) {
	// The endpoint reads until EOF, then answers: the client's FIN must reach it
	// while the way back stays open.
	_, c := connectThrough(t, serveOne(t, func(c net.Conn) {
		data, _ := io.ReadAll(c)
		_, _ = io.WriteString(c, "got "+string(data))
	}))
	_, _ = io.WriteString(c, "request")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, err := io.ReadAll(c)
	if err != nil || string(reply) != "got request" {
		t.Errorf("reply = %q, %v; want %q then EOF", reply, err, "got request")
	}
}

func TestEndpointRemovedMidway(t *testing.T) {
	ss, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps[:2])), full)
	addr := b.addr(t, web)
	toA, toB := dial(t, addr, netip.Addr{}), dial(t, addr, netip.Addr{})
	if toA.id != "a" || toB.id != "b" {
		t.Fatalf("connections reached %s and %s, want a and b", toA.id, toB.id)
	}
	// b is removed, c added.
	b.sync(t, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{eps[0], eps[2]})), changed(web))
	if !toB.closedByPeer() {
		t.Error("the connection to the removed endpoint is still open")
	}
	toA.echo(t, "still there")
	before := ss[1].accepted.Load()
	for range 4 {
		if c := dial(t, addr, netip.Addr{}); c.id == "b" {
			t.Error("a new connection reached the removed endpoint")
		}
	}
	if ss[1].accepted.Load() != before {
		t.Error("the removed endpoint accepted new connections")
	}
	eventually(t, "the removed endpoint's connection closed on its side", func() bool { return ss[1].open() == 0 })
}

func TestServiceDeletedClosesListener(t *testing.T) {
	ss, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
	addr := b.addr(t, web)
	c := dial(t, addr, netip.Addr{})
	b.sync(t, snapshot(), changed(web))
	if !c.closedByPeer() {
		t.Error("a connection of the deleted service is still open")
	}
	if conn, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		conn.Close()
		t.Error("the deleted service's listener still accepts")
	}
	if _, _, ok := b.ListenerPorts(web); ok {
		t.Error("ListenerPorts still knows the deleted service")
	}
	if rules := b.fake.Rules("nat", chainPortalsContainer); len(rules) != 0 {
		t.Errorf("portals left: %v", rules)
	}
	eventually(t, "endpoint connections closed", func() bool { return ss[0].open() == 0 })
}

func TestMetricsCountBytesAndConnections(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps[:1])), full)
	c := dial(t, b.addr(t, web), netip.Addr{})
	c.echo(t, "12345")
	active := b.metrics.active.WithLabelValues("IPv4", web.String())
	if n := testutil.ToFloat64(active); n != 1 {
		t.Errorf("active connections = %v, want 1", n)
	}
	_ = c.Close()
	eventually(t, "the connection to end", func() bool { return testutil.ToFloat64(active) == 0 })
	up := testutil.ToFloat64(b.metrics.bytes.WithLabelValues("IPv4", web.String(), DirectionToEndpoint))
	down := testutil.ToFloat64(b.metrics.bytes.WithLabelValues("IPv4", web.String(), DirectionToClient))
	if up != 5 || down != 2+5 { // the greeting "a\n", then the echo
		t.Errorf("bytes to endpoint %v, to client %v; want 5 and 7", up, down)
	}
	if n := testutil.ToFloat64(b.metrics.conns.WithLabelValues("IPv4", web.String())); n != 1 {
		t.Errorf("connections total = %v, want 1", n)
	}
	if n, err := testutil.GatherAndCount(b.reg, "kubeproxy_userspace_active_connections"); err != nil || n != 1 {
		t.Errorf("registry holds %d active-connection series (%v), want 1", n, err)
	}
}

// closedPort returns an address on ip where nothing listens.
func closedPort(t *testing.T, ip string) netip.AddrPort {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	return a
}

func TestResetIsPassedOn(t *testing.T) {
	seen := make(chan error, 1)
	_, c := connectThrough(t, serveOne(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "hi")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadAll(c)
		seen <- err
	}))
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetLinger(0)
	_ = c.Close()
	if err := <-seen; err == nil || !strings.Contains(err.Error(), "reset") {
		t.Errorf("the endpoint saw %v, want the client's reset", err)
	}
}
