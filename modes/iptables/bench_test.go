package iptablesmode

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// bigCluster is a large scenario built through the real proxy.Table: n services,
// each with one TCP port and eps endpoints, one service in ten with a node port,
// one endpoint in a hundred on this node.
type bigCluster struct {
	b    *packetflow.Builder
	snap *proxy.Snapshot
	n    int
}

var (
	bigOnce sync.Once
	big     *bigCluster
)

// bigClusterCIDRs is the big cluster's pod network (--cluster-cidr): every endpoint
// is in it, as on a real cluster.
var bigClusterCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}

// bigSettings configures backends for the big cluster.
var bigSettings = packetflow.Settings{ClusterCIDR: bigClusterCIDRs[0]}

// bigSnapshot returns the 10,000 × 10 cluster, built once per test binary.
func bigSnapshot(tb testing.TB) *bigCluster {
	bigOnce.Do(func() { big = newBigCluster(10000, 10) })
	return big
}

func newBigCluster(n, eps int) *bigCluster {
	b := packetflow.NewBuilder(packetflow.ThisNode).Node("", "192.168.0.10")
	for i := range n {
		name := fmt.Sprintf("svc%05d", i)
		nodePort := int32(0)
		if i%10 == 0 {
			nodePort = int32(30000 + i/10)
		}
		b.Service(packetflow.NewService("ns", name, fmt.Sprintf("172.30.%d.%d", i/250, i%250+1),
			packetflow.Port("p", v1.ProtocolTCP, 80, nodePort)))
		b.Slice(packetflow.NewSlice("ns", name, name+"-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, bigEndpoints(i, eps, 0)...))
	}
	snap, _ := b.Snapshot(v1.IPv4Protocol)
	return &bigCluster{b: b, snap: snap, n: n}
}

// bigEndpoints returns the endpoints of service i, shifted by gen generations.
func bigEndpoints(i, eps, gen int) []packetflow.Endpoint {
	out := make([]packetflow.Endpoint, eps)
	for k := range out {
		id := i*eps + k + gen
		node := packetflow.OtherNode
		if id%100 == 0 {
			node = packetflow.ThisNode
		}
		out[k] = packetflow.Endpoint{IP: fmt.Sprintf("10.%d.%d.%d", 1+id/65536, id/256%256, id%256), Node: node}
	}
	return out
}

// BenchmarkRenderFull renders the whole ruleset of 10,000 services × 10 endpoints,
// into new buffers each time as Sync does (it releases them after a full sync).
func BenchmarkRenderFull(b *testing.B) {
	c := bigSnapshot(b)
	cfg, _ := newConfig(&Options{Family: v1.IPv4Protocol, IPTables: newFake(v1.IPv4Protocol), ClusterCIDRs: bigClusterCIDRs})
	r := newRenderer(cfg)
	order := c.snap.Sorted()
	var res rendered
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.release()
		res = r.full(c.snap, order, fullInput{})
	}
	b.ReportMetric(float64(len(res.payload))/1e6, "MB")
	b.ReportMetric(float64(chainCount(res.state)), "chains")
	b.ReportMetric(float64(res.natWritten+res.filterWritten), "rules")
}

// BenchmarkRenderPartial renders the sync after one endpoint of one service of the
// 10,000 × 10 cluster changed.
func BenchmarkRenderPartial(b *testing.B) {
	c := newBigCluster(10000, 10) // its own: the builder is changed below
	cfg, _ := newConfig(&Options{Family: v1.IPv4Protocol, IPTables: newFake(v1.IPv4Protocol), ClusterCIDRs: bigClusterCIDRs})
	r := newRenderer(cfg)
	state := r.full(c.snap, c.snap.Sorted(), fullInput{}).state
	state.order = append([]proxy.ServicePortName(nil), state.order...)
	c.b.Slice(packetflow.NewSlice("ns", "svc05000", "svc05000-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, bigEndpoints(5000, 10, 1)...))
	snap, changes := c.b.Snapshot(v1.IPv4Protocol)
	order := snap.Sorted()
	var res rendered
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res = r.partial(snap, order, changes, state)
	}
	b.ReportMetric(float64(len(res.payload)), "bytes")
}

// BenchmarkApplyFullFake is a full Sync of the 10,000 × 10 cluster into the fake
// iptables, which parses and checks every line as iptables-restore would.
func BenchmarkApplyFullFake(b *testing.B) {
	c := bigSnapshot(b)
	fake := newFake(v1.IPv4Protocol)
	be := newTestBackend(b, v1.IPv4Protocol, fake, bigSettings)
	b.ResetTimer()
	for b.Loop() {
		if err := be.Sync(context.Background(), c.snap, full); err != nil {
			b.Fatal(err)
		}
	}
}

// chainCount counts the per-service chains of a state.
func chainCount(s *kernelState) int {
	n := 0
	for _, st := range s.services {
		n += len(st.chains)
	}
	return n
}

// BenchmarkRealRestore runs full and one-endpoint partial syncs of the 10,000 × 10
// cluster against the kernel, with each iptables variant, in the test's own
// network namespace. It takes minutes, so it runs only as root with
// KPROXY_BENCH_KERNEL=1.
func BenchmarkRealRestore(b *testing.B) {
	if os.Getenv("KPROXY_BENCH_KERNEL") == "" {
		b.Skip("set KPROXY_BENCH_KERNEL=1 to run")
	}
	requireNetns(b)
	ctx := context.Background()
	for _, variant := range realVariants(b) {
		client := iptables.New(iptables.IPv4, variant)
		c := newBigCluster(10000, 10)
		be := newTestBackend(b, v1.IPv4Protocol, client, bigSettings)
		b.Run(variant.String()+"/full", func(b *testing.B) {
			for b.Loop() {
				if err := be.Sync(ctx, c.snap, full); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(variant.String()+"/partial", func(b *testing.B) {
			gen := 0
			for b.Loop() {
				gen++
				c.b.Slice(packetflow.NewSlice("ns", "svc05000", "svc05000-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, bigEndpoints(5000, 10, gen%2)...))
				snap, changes := c.b.Snapshot(v1.IPv4Protocol)
				if err := be.Sync(ctx, snap, changes); err != nil {
					b.Fatal(err)
				}
				c.snap = snap
			}
		})
		if err := be.Cleanup(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
