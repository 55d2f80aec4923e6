package userspace

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/endpoints"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// full is the Changes of a full sync.
var full = proxy.Changes{Full: true}

// testBackend is a backend over a fake iptables, listening on loopback.
type testBackend struct {
	*Backend
	fake *iptablestest.Fake
	reg  *prometheus.Registry
}

// newTestBackend returns a set-up IPv4 backend bound to 127.0.0.1, closed when
// the test ends. mods may change the options first.
func newTestBackend(t testing.TB, mods ...func(*Options)) *testBackend {
	t.Helper()
	fake := iptablestest.New(iptablesFamily(false))
	reg := prometheus.NewRegistry()
	o := Options{Family: v1.IPv4Protocol, IPTables: fake, BindAddress: netip.MustParseAddr("127.0.0.1"), Registerer: reg}
	for _, m := range mods {
		m(&o)
	}
	if f, ok := o.IPTables.(*iptablestest.Fake); ok {
		fake = f
	}
	b, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Setup(context.Background()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	// Loopback dials take microseconds, but a busy machine may not schedule the
	// dialer within kube-proxy's first timeouts; the tests are about the logic.
	b.cfg.dialTimeouts = []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	t.Cleanup(func() { _ = b.Close() })
	return &testBackend{Backend: b, fake: fake, reg: reg}
}

// sync syncs snap and fails the test on error.
func (tb *testBackend) sync(t testing.TB, snap *proxy.Snapshot, changes proxy.Changes) {
	t.Helper()
	if err := tb.Sync(context.Background(), snap, changes); err != nil {
		t.Fatalf("Sync(full=%v): %v", changes.Full, err)
	}
}

// addr returns the internal listener of a service port, on loopback.
func (tb *testBackend) addr(t testing.TB, name proxy.ServicePortName) netip.AddrPort {
	t.Helper()
	in, _, ok := tb.ListenerPorts(name)
	if !ok {
		t.Fatalf("no listener for %s", name)
	}
	return netip.AddrPortFrom(tb.cfg.listenOn, uint16(in))
}

// spName returns the name of port "p" of service ns/name.
func spName(ns, name string, proto v1.Protocol) proxy.ServicePortName {
	return proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}, Port: "p", Protocol: proto}
}

// svcOpt changes a test service.
type svcOpt func(*proxy.Service)

// newService returns a service port with cluster IP ip:80 and the given endpoints,
// all ready and, unless changed, used for internal traffic.
func newService(name proxy.ServicePortName, ip string, eps []netip.AddrPort, opts ...svcOpt) *proxy.Service {
	s := &proxy.Service{ServicePort: proxy.ServicePort{Name: name, ClusterIP: netip.MustParseAddr(ip), Port: 80}}
	for _, ep := range eps {
		e := endpoints.Endpoint{IP: ep.Addr(), Port: ep.Port(), Ready: true, Serving: true}
		s.All = append(s.All, e)
		s.Endpoints.Cluster = append(s.Endpoints.Cluster, e)
	}
	s.Endpoints.Any = len(eps) > 0
	for _, o := range opts {
		o(s)
	}
	return s
}

// withAffinity sets ClientIP affinity.
func withAffinity(d time.Duration) svcOpt { return func(s *proxy.Service) { s.AffinityTimeout = d } }

// snapshot returns an IPv4 snapshot of services.
func snapshot(svcs ...*proxy.Service) *proxy.Snapshot {
	s := &proxy.Snapshot{Family: v1.IPv4Protocol, Services: map[proxy.ServicePortName]*proxy.Service{}}
	for _, svc := range svcs {
		s.Services[svc.Name] = svc
	}
	return s
}

// server is a TCP test endpoint: it greets each connection with "<id>\n", then
// echoes until EOF and closes.
type server struct {
	id       string
	ln       *net.TCPListener
	addr     netip.AddrPort
	accepted atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// startServer starts a server on ip, stopped when the test ends.
func startServer(t testing.TB, ip, id string) *server {
	t.Helper()
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &server{id: id, ln: ln, addr: ln.Addr().(*net.TCPAddr).AddrPort(), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.stop)
	return s
}

func (s *server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	if _, err := io.WriteString(c, s.id+"\n"); err != nil {
		return
	}
	// A plain copy: a splice would hold a pipe while idle, which
	// TestIdleConnectionsHoldNoPipes must not count.
	_, _ = io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
}

// open returns how many connections the server holds.
func (s *server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *server) stop() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// client is one test connection through the proxy.
type client struct {
	*net.TCPConn
	r  *bufio.Reader
	id string // the greeting: which server answered
}

// dial connects to addr from local (when valid) and reads the greeting.
func dial(t testing.TB, addr netip.AddrPort, local netip.Addr) *client {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
	}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cl := &client{TCPConn: c.(*net.TCPConn), r: bufio.NewReader(c)}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := cl.r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the greeting through %s: %v", addr, err)
	}
	cl.id = strings.TrimSuffix(line, "\n")
	return cl
}

// echo sends msg and checks it comes back.
func (c *client) echo(t testing.TB, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c.r, got); err != nil {
		t.Fatalf("echo of %q: %v", msg, err)
	}
	if string(got) != msg {
		t.Fatalf("echo: got %q, want %q", got, msg)
	}
}

// closedByPeer reports whether the connection was closed by the other side
// within a few seconds.
func (c *client) closedByPeer() bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.r.ReadByte()
	return err != nil && !os.IsTimeout(err)
}

// udpServer is a UDP test endpoint answering "<id>:<datagram>".
type udpServer struct {
	id   string
	conn *net.UDPConn
	addr netip.AddrPort
}

// startUDPServer starts a UDP server on ip, stopped when the test ends.
func startUDPServer(t testing.TB, ip, id string) *udpServer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &udpServer{id: id, conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteToUDPAddrPort(append([]byte(id+":"), buf[:n]...), from)
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-done })
	return s
}

// resources counts what a leak would leave behind.
type resources struct{ goroutines, fds int }

func countResources(t testing.TB) resources {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return resources{goroutines: runtime.NumGoroutine(), fds: len(fds)}
}

// waitForBaseline waits until goroutines and descriptors are back to base at
// most. Splice pipes kept in Go's pipe pool are closed by finalizers after a few
// garbage collections, so it collects while waiting.
func waitForBaseline(t testing.TB, base resources) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var now resources
	for time.Now().Before(deadline) {
		runtime.GC()
		now = countResources(t)
		if now.goroutines <= base.goroutines && now.fds <= base.fds {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	t.Fatalf("leak: %d goroutines and %d fds, baseline %d and %d\n%s", now.goroutines, now.fds, base.goroutines, base.fds, buf[:n])
}

// eventually polls cond for up to five seconds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// changed returns the Changes of a partial sync touching the services of
// names.
func changed(names ...proxy.ServicePortName) proxy.Changes {
	c := proxy.Changes{Services: map[types.NamespacedName]struct{}{}}
	for _, n := range names {
		c.Services[n.NamespacedName] = struct{}{}
	}
	return c
}

// mapValues iterates over m's values.
func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// freeRange returns a port range of size ports, none of them in use now.
func freeRange(t testing.TB, size int) PortRange {
	t.Helper()
	for base := 42000 + rand.IntN(1000)*10; base < 60000; base += size {
		ok := true
		for p := base; p < base+size && ok; p++ {
			ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			_ = ln.Close()
		}
		if ok {
			return PortRange{Base: base, Size: size}
		}
	}
	t.Fatal("no free port range")
	return PortRange{}
}

// portRE matches listener ports in rules.
var portRE = regexp.MustCompile(`(--to-ports |--to-destination [0-9.]+:|--dport )[0-9]{4,5}\b`)

// withoutPorts blanks listener ports out of a dump (node ports too), so that
// two backends' rules can be compared.
func withoutPorts(dump string) string { return portRE.ReplaceAllString(dump, "${1}N") }

// serveOne listens on loopback and hands the first connection to handle,
// closing it when handle returns; the listener closes when the test ends.
func serveOne(t *testing.T, handle func(c net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handle(c)
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// connectThrough opens a connection through a new backend proxying web to ep
// alone; both close when the test ends.
func connectThrough(t *testing.T, ep netip.AddrPort) (*testBackend, *net.TCPConn) {
	t.Helper()
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{ep})), full)
	c, err := net.Dial("tcp", b.addr(t, web).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return b, c.(*net.TCPConn)
}
