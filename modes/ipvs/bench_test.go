package ipvsmode_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/modes/ipvs/ipvstest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// bigCluster feeds n ClusterIP services with 10 remote endpoints each (every
// tenth a NodePort one) into a builder.
func bigCluster(n int) *packetflow.Builder {
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	for i := range n {
		name := fmt.Sprintf("svc%d", i)
		nodePort := int32(0)
		if i%10 == 0 {
			nodePort = int32(30000 + i/10)
		}
		pb.Service(packetflow.NewService("ns", name, fmt.Sprintf("172.16.%d.%d", i/250, i%250+1),
			packetflow.Port("p", v1.ProtocolTCP, 80, nodePort)))
		pb.Slice(packetflow.NewSlice("ns", name, name+"-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, endpointsOf(i, 0)...))
	}
	return pb
}

// endpointsOf returns service i's 10 endpoints, the first one shifted by shift.
func endpointsOf(i, shift int) []packetflow.Endpoint {
	var eps []packetflow.Endpoint
	for j := range 10 {
		eps = append(eps, packetflow.Endpoint{IP: fmt.Sprintf("10.%d.%d.%d", 64+j, i/250, i%250+1+shift*boolInt(j == 0)),
			Node: packetflow.OtherNode})
	}
	return eps
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkFullSync10k measures a first, full sync of 10,000 services with 10
// endpoints each into empty fakes: planning, diffing and the fakes' work.
func BenchmarkFullSync10k(b *testing.B) {
	snap, _ := bigCluster(10_000).Snapshot(v1.IPv4Protocol)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		k := newKernel(b, v1.IPv4Protocol, ip("192.168.0.10"))
		be := newBackend(b, k, nil)
		runtime.GC()
		b.StartTimer()
		start := cpuTime()
		mustSync(b, be, snap, full)
		cpu += cpuTime() - start
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime returns the CPU time the process used so far, which, unlike wall time,
// does not grow when other processes share the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResync10k measures a full sync of 10,000 services into fakes that already
// hold them: reading the kernel and finding nothing to do.
func BenchmarkResync10k(b *testing.B) {
	snap, _ := bigCluster(10_000).Snapshot(v1.IPv4Protocol)
	k := newKernel(b, v1.IPv4Protocol, ip("192.168.0.10"))
	be := newBackend(b, k, nil)
	mustSync(b, be, snap, full)
	b.ReportAllocs()
	for b.Loop() {
		mustSync(b, be, snap, full)
	}
}

// BenchmarkOneEndpointChange10k measures a partial sync after one endpoint of one
// service changed, among 10,000 services.
func BenchmarkOneEndpointChange10k(b *testing.B) {
	pb := bigCluster(10_000)
	snap, _ := pb.Snapshot(v1.IPv4Protocol)
	k := newKernel(b, v1.IPv4Protocol, ip("192.168.0.10"))
	be := newBackend(b, k, nil)
	mustSync(b, be, snap, full)
	b.ReportAllocs()
	shift := 0
	for b.Loop() {
		b.StopTimer()
		shift = 1 - shift
		pb.Slice(packetflow.NewSlice("ns", "svc42", "svc42-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, endpointsOf(42, shift)...))
		snap, changes := pb.Snapshot(v1.IPv4Protocol)
		b.StartTimer()
		mustSync(b, be, snap, changes)
	}
}

// TestOneEndpointChangeTouchesOneService: replacing one endpoint of one service
// among many adds one real server and deletes one, reads only that virtual
// server's real servers, lists no addresses and runs no ipset or iptables command.
func TestOneEndpointChangeTouchesOneService(t *testing.T) {
	pb := bigCluster(2_000)
	snap, _ := pb.Snapshot(v1.IPv4Protocol)
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	b := newBackend(t, k, nil)
	mustSync(t, b, snap, full)
	k.ipvs.ResetOps()
	restores, applies, nlCalls := k.ipt.Restores(), k.sets.Applies(), k.nl.Calls()

	pb.Slice(packetflow.NewSlice("ns", "svc40", "svc40-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8080, endpointsOf(40, 1)...))
	snap, changes := pb.Snapshot(v1.IPv4Protocol)
	mustSync(t, b, snap, changes)

	// svc40 has a node port: its two virtual servers each get one real server
	// added and one deleted (no connections: at once).
	want := ipvstest.Ops{NewDestination: 2, DelDestination: 2, GetDestinations: 2}
	if got := k.ipvs.Ops(); got != want {
		t.Errorf("IPVS calls = %+v, want %+v", got, want)
	}
	if k.ipt.Restores() != restores || k.sets.Applies() != applies {
		t.Errorf("ran %d iptables-restore and %d ipset batches, want none", k.ipt.Restores()-restores, k.sets.Applies()-applies)
	}
	if n := k.nl.Calls() - nlCalls; n != 0 {
		t.Errorf("%d netlink calls, want none (the node's addresses did not change)", n)
	}
	fresh := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	mustSync(t, newBackend(t, fresh, nil), snap, full)
	if k.ipvs.Dump() != fresh.ipvs.Dump() {
		t.Error("the partial sync differs from a full one")
	}
}
