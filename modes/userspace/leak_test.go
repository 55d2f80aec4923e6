package userspace

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestThousandConcurrentConnections opens 1,000 connections at once through the
// proxy, checks each one echoes its own data, closes everything and checks that
// no goroutine or file descriptor is left behind.
func TestThousandConcurrentConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 1000
	warmUp(t)
	base := countResources(t)
	func() {
		ss, eps := threeServers(t)
		b := newTestBackend(t)
		b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
		addr := b.addr(t, web)
		conns := make([]net.Conn, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c, err := connectAndEcho(addr, fmt.Sprintf("message %d\n", i))
				conns[i] = c
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// Every connection is open at once, spread evenly.
		if open := ss[0].open() + ss[1].open() + ss[2].open(); open != n {
			t.Errorf("endpoints hold %d connections, want %d", open, n)
		}
		// Round robin spreads them evenly. Under load a dial may time out after
		// 250 ms and be retried on the next endpoint; the abandoned attempt may
		// still have reached its endpoint.
		retries := int64(testutil.ToFloat64(b.metrics.dials.WithLabelValues("IPv4", web.String())))
		var total int64
		for _, s := range ss {
			got := s.accepted.Load()
			total += got
			if got < n/3 || got > n/3+1+retries {
				t.Errorf("endpoint %s took %d connections, want %d or %d (%d retried dials)", s.id, got, n/3, n/3+1, retries)
			}
		}
		if total < n || total > n+retries {
			t.Errorf("endpoints took %d connections for %d clients and %d retried dials", total, n, retries)
		}
		t.Logf("%d dials retried", retries)
		if got := b.services[web].internal.openConns(); got != n {
			t.Errorf("proxy relays %d connections, want %d", got, n)
		}
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
		eventually(t, "relays to end", func() bool { return b.services[web].internal.openConns() == 0 })
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			s.stop()
		}
	}()
	waitForBaseline(t, base)
}

// connectAndEcho dials addr, reads the greeting and checks msg is echoed.
func connectAndEcho(addr netip.AddrPort, msg string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil {
		return c, fmt.Errorf("greeting: %w", err)
	}
	if _, err := io.WriteString(c, msg); err != nil {
		return c, err
	}
	got, err := r.ReadString('\n')
	if err != nil || got != msg {
		return c, fmt.Errorf("echo %q, %v; want %q", got, err, msg)
	}
	return c, nil
}

// warmUp makes the runtime open what it keeps for good (the network poller) so
// that it does not count as a leak.
func warmUp(t *testing.T) {
	s := startServer(t, "127.0.0.1", "warm")
	c := dial(t, s.addr, netip.Addr{})
	_ = c.Close()
	s.stop()
}

// TestIdleConnectionsHoldNoPipes checks that an idle relayed connection costs
// its two sockets only: splice pipes are borrowed while data moves.
func TestIdleConnectionsHoldNoPipes(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
	clearPipePool()
	base := countPipes(t)
	for range 50 {
		dial(t, b.addr(t, web), netip.Addr{}).echo(t, "idle soon")
	}
	clearPipePool()
	if pipes := countPipes(t); pipes > base {
		t.Errorf("%d pipe descriptors open with 50 idle connections, %d before", pipes, base)
	}
}

// clearPipePool empties Go's splice pipe pool: pooled pipes are closed by
// finalizers once two collections have dropped them.
func clearPipePool() {
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// countPipes counts the process's pipe descriptors (two per pipe).
func countPipes(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list file descriptors: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, _ := os.Readlink("/proc/self/fd/" + fd.Name()); strings.HasPrefix(target, "pipe:") {
			n++
		}
	}
	return n
}

// TestRelayUsesSplice checks that relayed data goes through splice pipes, not
// through user space: wrapping the connections would silently lose that.
func TestRelayUsesSplice(t *testing.T) {
	_, eps := threeServers(t)
	b := newTestBackend(t)
	b.sync(t, snapshot(newService(web, "172.30.0.10", eps)), full)
	c := dial(t, b.addr(t, web), netip.Addr{})
	clearPipePool()
	base := countPipes(t)
	c.echo(t, strings.Repeat("x", 1<<20))
	if pipes := countPipes(t); pipes <= base {
		t.Errorf("no splice pipe was used to relay 1 MiB (%d pipe descriptors, %d before)", pipes, base)
	}
}
