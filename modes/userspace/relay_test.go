package userspace

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// unansweringEndpoint returns an address whose listener does not complete
// handshakes: its accept queue (backlog 0) is full, so the kernel drops SYNs
// and a connect to it waits. release makes room for one more connection,
// which the connecting side's next SYN retransmission (after 1 s) completes.
func unansweringEndpoint(t *testing.T, ip string) (addr netip.AddrPort, release func()) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	a := netip.MustParseAddr(ip)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: a.As4()}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr = sockaddrAddrPort(sa)
	filler, err := net.DialTimeout("tcp", addr.String(), time.Second)
	if err != nil {
		t.Fatalf("filling the accept queue: %v", err)
	}
	t.Cleanup(func() { _ = filler.Close() })
	if c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("the endpoint still completes handshakes")
	}
	return addr, func() {
		nfd, _, err := syscall.Accept4(fd, syscall.SOCK_CLOEXEC)
		if err != nil {
			t.Fatalf("accepting the filler: %v", err)
		}
		_ = syscall.Close(nfd)
	}
}

func TestDialTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeouts []time.Duration
		live     bool   // a second, answering endpoint exists
		want     string // what the client sees: the live server's greeting, or "reset"
		failures float64
	}{
		{"a timed-out attempt goes to the next endpoint", []time.Duration{100 * time.Millisecond, 5 * time.Second}, true, "live", 1},
		{"every attempt timed out: the client is reset", []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, false, "reset", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stuck, _ := unansweringEndpoint(t, "127.0.0.3")
			eps := []netip.AddrPort{stuck}
			if tc.live {
				eps = append(eps, startServer(t, "127.0.0.2", "live").addr)
			}
			b := newTestBackend(t)
			b.cfg.dialTimeouts = tc.timeouts
			b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
			start := time.Now()
			got := firstLine(t, b.addr(t, web))
			took := time.Since(start)
			if got != tc.want {
				t.Errorf("client got %q, want %q", got, tc.want)
			}
			var waited time.Duration
			for _, d := range tc.timeouts[:int(tc.failures)] {
				waited += d
			}
			if took < waited || took > waited+2*time.Second {
				t.Errorf("the answer came after %v, want the timeouts' %v", took, waited)
			}
			if n := testutil.ToFloat64(b.metrics.dials.WithLabelValues("IPv4", web.String())); n != tc.failures {
				t.Errorf("dial failures = %v, want %v", n, tc.failures)
			}
		})
	}
}

// firstLine connects to addr and returns the first line it reads, or "reset".
func firstLine(t *testing.T, addr netip.AddrPort) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && strings.Contains(err.Error(), "reset") {
		return "reset"
	}
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return strings.TrimSuffix(line, "\n")
}

// TestSlowReaderGetsEverything sends 8 MiB through the proxy to an endpoint
// that reads slowly, so that the relay's writes block and data waits in its
// buffers and pipes; the endpoint answers with the digest of what it got once
// the client's FIN reaches it.
func TestSlowReaderGetsEverything(t *testing.T) {
	b, c := connectThrough(t, serveOne(t, func(c net.Conn) {
		h := sha256.New()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			h.Write(buf[:n])
			if err != nil {
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		_, _ = c.Write(h.Sum(nil))
	}))
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	data := make([]byte, 8<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(data)
	// Writes of varied sizes: some are copied, some spliced.
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1+int(rng.Uint64()%(300<<10)))
		if _, err := c.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	want := sha256.Sum256(data)
	if err != nil || !bytes.Equal(got, want[:]) {
		t.Errorf("endpoint's digest %x (%v), want %x", got, err, want)
	}
	eventually(t, "the relay to end", func() bool { return b.services[web].internal.openConns() == 0 })
	if up := testutil.ToFloat64(b.metrics.bytes.WithLabelValues("IPv4", web.String(), DirectionToEndpoint)); up != float64(len(data)) {
		t.Errorf("bytes to endpoint %v, want %d", up, len(data))
	}
}

// TestDialsEndWithTheirClient checks that a connection whose endpoint does not
// answer yet ends as soon as its client resets it, instead of waiting for the
// dial's timeout, and that closing the backend ends the dials under way: both
// leave no descriptor behind.
func TestDialsEndWithTheirClient(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(b *testBackend, c *net.TCPConn)
	}{
		{"the client resets", func(_ *testBackend, c *net.TCPConn) { _ = c.SetLinger(0); _ = c.Close() }},
		{"the backend closes", func(b *testBackend, c *net.TCPConn) { _ = b.Close(); _ = c.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stuck, _ := unansweringEndpoint(t, "127.0.0.3")
			b := newTestBackend(t)
			b.cfg.dialTimeouts = []time.Duration{time.Minute}
			b.sync(t, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{stuck})), full)
			base := countResources(t)
			c, err := net.Dial("tcp", b.addr(t, web).String())
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the proxy to dial", func() bool { return countResources(t).fds >= base.fds+3 })
			start := time.Now()
			tc.end(b, c.(*net.TCPConn))
			eventually(t, "the proxy to close the dial's sockets", func() bool { return countResources(t).fds <= base.fds })
			if took := time.Since(start); took > time.Second {
				t.Errorf("the sockets closed %v after the end", took)
			}
		})
	}
}

// TestIPv6Relay relays a connection of an IPv6 backend bound to ::1 to an
// IPv6 endpoint: the listening and dialed sockets are AF_INET6.
func TestIPv6Relay(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	srv := startServer(t, "::1", "six")
	b := newTestBackend(t, func(o *Options) {
		o.Family = v1.IPv6Protocol
		o.BindAddress = netip.IPv6Loopback()
		o.IPTables = iptablestest.New(iptablesFamily(true))
	})
	snap := snapshot(newService(web, "fd00::10", []netip.AddrPort{srv.addr}))
	snap.Family = v1.IPv6Protocol
	b.sync(t, snap, full)
	addr := b.addr(t, web)
	if !addr.Addr().Is6() {
		t.Fatalf("listener on %s, want ::1", addr)
	}
	c := dial(t, addr, netip.Addr{})
	if c.id != "six" {
		t.Errorf("reached %q, want the IPv6 endpoint", c.id)
	}
	c.echo(t, "over IPv6\n")
}

// TestConcurrentEchoesArriveIntact echoes data of random sizes over many
// connections at once, written in random pieces and read back at random
// paces, so that the loops interleave small copies, splices and blocked writes
// of many connections; every byte must come back in order, and every
// connection must end cleanly once the client half-closes.
func TestConcurrentEchoesArriveIntact(t *testing.T) {
	const conns = 24
	srv := startServer(t, "127.0.0.1", "echo")
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{srv.addr})), full)
	addr := b.addr(t, web)
	errs := make(chan error, conns)
	for i := range conns {
		go func() { errs <- echoRandomly(addr, uint64(i)) }()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	eventually(t, "every relay to end", func() bool { return b.services[web].internal.openConns() == 0 })
}

// echoRandomly sends up to 3 MiB of random data through addr in random pieces,
// half-closes, and checks that the echo server's greeting and the same bytes
// come back, then EOF.
func echoRandomly(addr netip.AddrPort, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 7))
	data := make([]byte, rng.IntN(3<<20))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := make(chan error, 1)
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(1<<uint(rng.IntN(19))))
			if _, err := c.Write(rest[:n]); err != nil {
				sent <- err
				return
			}
			rest = rest[n:]
		}
		sent <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := readSlowly(c, seed)
	if werr := <-sent; werr != nil {
		return werr
	}
	want := append([]byte("echo\n"), data...)
	if err != nil || !bytes.Equal(got, want) {
		return fmt.Errorf("connection %d: got %d bytes (%v), want %d back intact", seed, len(got), err, len(want))
	}
	return nil
}

// readSlowly reads c to EOF in pieces of random sizes, pausing now and then.
func readSlowly(c net.Conn, seed uint64) ([]byte, error) {
	rng := rand.New(rand.NewPCG(seed, 11))
	var got []byte
	buf := make([]byte, 256<<10)
	for {
		n, err := c.Read(buf[:1+rng.IntN(len(buf))])
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		if rng.IntN(8) == 0 {
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
		}
	}
}

// TestEndpointRemovedDuringDial removes the only endpoint while a connection
// is being dialed to it; when the endpoint then answers, the connection is
// closed instead of relayed, and it never counts as active.
func TestEndpointRemovedDuringDial(t *testing.T) {
	stuck, release := unansweringEndpoint(t, "127.0.0.3")
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{stuck})), full)
	c := dialRaw(t, b.addr(t, web))
	time.Sleep(50 * time.Millisecond) // the proxy's SYN is dropped
	b.sync(t, snapshot(newService(web, "172.30.0.10", nil)), changed(web))
	release()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("read = %v, want the connection closed", err)
	}
	active := b.metrics.active.WithLabelValues("IPv4", web.String())
	total := b.metrics.conns.WithLabelValues("IPv4", web.String())
	if a, n := testutil.ToFloat64(active), testutil.ToFloat64(total); a != 0 || n != 0 {
		t.Errorf("active connections %v, connections total %v; want 0 and 0", a, n)
	}
}

// dialRaw opens a TCP connection to addr, closed when the test ends.
func dialRaw(t *testing.T, addr netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
