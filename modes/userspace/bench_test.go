package userspace

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// The benchmarks compare a connection through the proxy with a direct one to
// the same endpoint on loopback, in one run:
//
//	go test -run '^$' -bench . ./modes/userspace
//
// Each has a "direct" and a "proxied" sub-benchmark.

// rawServer is a benchmark endpoint: echo (io.Copy back) or sink (read to EOF,
// then answer the byte count).
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
				n, _ := io.Copy(io.Discard, c)
				_, _ = io.WriteString(c, strconv.FormatInt(n, 10))
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

// targets returns the server's address and a proxy listener in front of it.
func targets(b *testing.B, s *rawServer) map[string]netip.AddrPort {
	klog.SetOutput(io.Discard)
	tb := newTestBackend(b)
	tb.sync(b, snapshot(newService(web, "172.30.0.10", []netip.AddrPort{s.addr})), full)
	return map[string]netip.AddrPort{"direct": s.addr, "proxied": tb.addr(b, web)}
}

var modes = []string{"direct", "proxied"}

// BenchmarkThroughput sends bulk data one way over one connection.
func BenchmarkThroughput(b *testing.B) {
	to := targets(b, startRawServer(b, true))
	const chunk = 256 << 10
	buf := make([]byte, chunk)
	for _, mode := range modes {
		b.Run(mode, func(b *testing.B) {
			c, err := net.Dial("tcp", to[mode].String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(chunk)
			cpu := startCPU()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			_ = c.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(c) // the sink's count: everything arrived
			b.StopTimer()
			if err != nil || string(got) != strconv.Itoa(b.N*chunk) {
				b.Fatalf("sink got %q bytes (%v), want %d", got, err, b.N*chunk)
			}
			b.ReportMetric(cpu.since()/(float64(b.N)*chunk/(1<<20)), "cpu-µs/MiB")
		})
	}
}

// cpuClock measures the CPU time (user and system) the test process spends:
// client, endpoint and proxy alike. On a busy machine it is a steadier measure
// of the proxy's cost than wall time.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{processCPU()} }

// since returns the CPU time spent since start, in microseconds.
func (c cpuClock) since() float64 { return float64(processCPU()-c.start) / float64(time.Microsecond) }

func processCPU() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// BenchmarkLatency ping-pongs one byte over one connection and reports the
// round trip's percentiles.
func BenchmarkLatency(b *testing.B) {
	to := targets(b, startRawServer(b, false))
	for _, mode := range modes {
		b.Run(mode, func(b *testing.B) {
			c, err := net.Dial("tcp", to[mode].String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			one := []byte{'x'}
			rtts := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				rtts = append(rtts, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, rtts)
		})
	}
}

// reportPercentiles reports the 50th and 99th percentile in microseconds.
func reportPercentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	at := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))]) / float64(time.Microsecond) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkConnect opens a connection, exchanges a byte and closes it.
func BenchmarkConnect(b *testing.B) {
	to := targets(b, startRawServer(b, false))
	for _, mode := range modes {
		b.Run(mode, func(b *testing.B) {
			one := []byte{'x'}
			start, cpu := time.Now(), startCPU()
			for range b.N {
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
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "conns/s")
			b.ReportMetric(cpu.since()/float64(b.N), "cpu-µs/conn")
		})
	}
}

// BenchmarkIdleMemory opens 1,000 idle connections and reports the Go memory
// (heap and stacks in use) each costs: direct, proxied, and what the proxy adds
// (the difference). The proxied figure holds the client's and the endpoint's
// side too, as the direct one does.
func BenchmarkIdleMemory(b *testing.B) {
	const n = 1000
	to := targets(b, startRawServer(b, false))
	per := map[string]float64{}
	for _, mode := range modes {
		per[mode] = idleMemory(b, to[mode], n)
	}
	b.ReportMetric(0, "ns/op") // one measurement, whatever b.N
	b.ReportMetric(per["direct"], "direct-B/conn")
	b.ReportMetric(per["proxied"], "proxied-B/conn")
	b.ReportMetric(per["proxied"]-per["direct"], "added-B/conn")
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
