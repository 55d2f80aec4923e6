package userspace

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// The benchmarks compare connections through the proxy with direct ones to the
// same endpoint on loopback:
//
//	go test -run '^$' -bench . ./modes/userspace
//
// Each iteration does the same work once directly and once through the proxy,
// alternating which goes first, so that both see the same machine load; each
// benchmark reports both figures and their ratio (bench_pair_test.go). ns/op is
// the time of one such pair and means little.

// bulkBytes is what one bulk transfer sends over a connection open for the
// whole benchmark (so neither the handshake nor TCP's slow start and buffer
// autotuning count): a transfer takes 5–20 ms, so direct and proxied
// transfers alternate often and see the same load from the machine's other
// work.
const bulkBytes = 16 << 20

// ackUnit is how many received bytes the sink acknowledges with one byte.
const ackUnit = 1 << 20

// ioChunk is the size of every write of the bulk sender and every read of the
// sink, direct or proxied.
const ioChunk = 256 << 10

// rawServer is a benchmark endpoint: echo (io.Copy back) or sink (read in
// ioChunk reads, answering one byte per ackUnit received).
type rawServer struct {
	ln   net.Listener
	addr netip.AddrPort
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]struct{}
}

func startRawServer(b testing.TB, sink bool) *rawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &rawServer{ln: ln, addr: ln.Addr().(*net.TCPAddr).AddrPort(), open: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { s.mu.Lock(); delete(s.open, c); s.mu.Unlock(); c.Close() }()
				if !sink {
					_, _ = io.Copy(c, c)
					return
				}
				_ = drain(c)
			}()
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// drain reads c to EOF in ioChunk reads and writes one byte back for every
// ackUnit received.
func drain(c net.Conn) error {
	buf := make([]byte, ioChunk)
	acks := make([]byte, ioChunk/ackUnit+1)
	var n, acked int64
	for {
		m, err := c.Read(buf)
		n += int64(m)
		if due := n/ackUnit - acked; due > 0 {
			if _, err := c.Write(acks[:due]); err != nil {
				return err
			}
			acked += due
		}
		if err != nil {
			return err
		}
	}
}

// targets returns the server's address and a proxy listener in front of it,
// indexed like modes.
func targets(b *testing.B, s *rawServer) [2]netip.AddrPort {
	klog.SetOutput(io.Discard)
	tb := newTestBackend(b)
	tb.sync(b, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{s.addr})), full)
	return [2]netip.AddrPort{s.addr, tb.addr(b, web)}
}

// dialBoth opens a connection to each target, closed when the benchmark ends.
func dialBoth(b *testing.B, to [2]netip.AddrPort) [2]net.Conn {
	var conns [2]net.Conn
	for mode := range modes {
		c, err := net.Dial("tcp", to[mode].String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns[mode] = c
	}
	return conns
}

// BenchmarkThroughput sends bulkBytes at a time one way, in ioChunk writes,
// over one connection per mode, to a sink that reads them in ioChunk reads, and
// waits until the sink has acknowledged every byte.
func BenchmarkThroughput(b *testing.B) {
	to := targets(b, startRawServer(b, true))
	conns := dialBoth(b, to)
	buf := make([]byte, ioChunk)
	acks := make([]byte, bulkBytes/ackUnit)
	var p pair
	for i := range b.N {
		p.run(b, i, func(mode int) float64 {
			bulkTransfer(b, conns[mode], buf, acks)
			return bulkBytes
		})
	}
	p.report(b, 1e-6, "MB/s", "cpu-µs/MiB", 1<<20)
}

// bulkTransfer sends bulkBytes over c and waits for the sink's acknowledgements.
func bulkTransfer(b *testing.B, c net.Conn, buf, acks []byte) {
	for range bulkBytes / len(buf) {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := io.ReadFull(c, acks); err != nil {
		b.Fatalf("waiting for the sink: %v", err)
	}
}

// BenchmarkLatency ping-pongs one byte over one connection per mode and reports
// the round trip's percentiles.
func BenchmarkLatency(b *testing.B) {
	to := targets(b, startRawServer(b, false))
	conns := dialBoth(b, to)
	const batch = 200
	var rtts [2][]time.Duration
	one := []byte{'x'}
	b.ResetTimer()
	for i := range b.N {
		for _, mode := range order(i) {
			for range batch {
				start := time.Now()
				if _, err := conns[mode].Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(conns[mode], one); err != nil {
					b.Fatal(err)
				}
				rtts[mode] = append(rtts[mode], time.Since(start))
			}
		}
	}
	b.StopTimer()
	for mode, name := range modes {
		reportPercentiles(b, name, rtts[mode])
	}
}

// BenchmarkConnect opens connections one after the other, exchanges a byte on
// each and closes it (with a reset, so that no TIME_WAIT socket piles up).
func BenchmarkConnect(b *testing.B) {
	to := targets(b, startRawServer(b, false))
	const batch = 10
	one := []byte{'x'}
	var p pair
	for i := range b.N {
		p.run(b, i, func(mode int) float64 {
			for range batch {
				c, err := net.Dial("tcp", to[mode].String())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				_ = c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
			return batch
		})
	}
	p.report(b, 1, "conns/s", "cpu-µs/conn", 1)
}

// cpuClock measures the CPU time (user and system) the test process spends:
// client, endpoint and proxy alike. On a busy machine it is a steadier measure
// of the proxy's cost than wall time.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{processCPU()} }

// since returns the CPU time spent since start.
func (c cpuClock) since() time.Duration { return processCPU() - c.start }

func processCPU() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// BenchmarkIdleMemory opens 1,000 idle connections and reports the Go memory
// (heap and stacks in use) each costs: direct, proxied, and what the proxy adds
// (the difference). The proxied figure holds the client's and the endpoint's
// side too, as the direct one does.
func BenchmarkIdleMemory(b *testing.B) {
	const n = 1000
	to := targets(b, startRawServer(b, false))
	var per [2]float64
	for mode := range modes {
		per[mode] = idleMemory(b, to[mode], n)
	}
	b.ReportMetric(0, "ns/op") // one measurement, whatever b.N
	b.ReportMetric(per[direct], "direct-B/conn")
	b.ReportMetric(per[proxied], "proxied-B/conn")
	b.ReportMetric(per[proxied]-per[direct], "added-B/conn")
}

// idleMemory returns the heap and stack memory per connection held by n idle
// connections to addr, once each has carried one byte.
func idleMemory(b *testing.B, addr netip.AddrPort, n int) float64 {
	before := inUse()
	conns := make([]net.Conn, 0, n)
	one := []byte{'x'}
	for range n {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(one); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, one); err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	after := inUse()
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(100 * time.Millisecond)
	return float64(after-before) / float64(n)
}

// inUse returns the heap and stack bytes in use after a collection.
func inUse() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkRenderPortals renders the portals of many service ports, the work
// of every sync that changes a service.
func BenchmarkRenderPortals(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			portals := make([]portal, n)
			for i := range portals {
				svc := fullService()
				svc.Name = spName("ns", fmt.Sprintf("svc%d", i), svc.Name.Protocol)
				svc.ClusterIP = netip.AddrFrom4([4]byte{172, 30, byte(i >> 8), byte(i)})
				portals[i] = portal{svc: svc, internal: 30000 + i%30000, external: 30000 + i%30000}
			}
			var p iptables.Payload
			cfg := portalConfig{bindAny: true, hostIP: nodeIP}
			b.ReportAllocs()
			for range b.N {
				p.Reset()
				renderPortals(&p, cfg, portals)
				data, _ := p.Bytes()
				b.SetBytes(int64(len(data)))
			}
		})
	}
}
