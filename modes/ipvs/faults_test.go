package ipvsmode_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/modes/ipvs/ipvstest"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/ipset/ipsettest"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// faultScenario feeds half the standard services, syncs, then changes to the
// other half and a few updates, returning the builder ready for the second sync.
func faultScenario(t *testing.T, b *ipvsmode.Backend) *packetflow.Builder {
	t.Helper()
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	web(nodePort, packetflow.LoadBalancer([]string{"5.6.7.8"}, "203.0.113.0/24"))(pb)
	pb.Service(packetflow.NewService("ns", "old", "172.30.0.20", packetflow.Port("p", v1.ProtocolUDP, 53, 0),
		packetflow.ExternalIPs("192.168.99.20")))
	pb.Slice(packetflow.NewSlice("ns", "old", "old-1", v1.IPv4Protocol, "p", v1.ProtocolUDP, 53, eps([]string{"10.0.1.20"}, "10.0.2.20")...))
	snap, _ := pb.Snapshot(v1.IPv4Protocol)
	mustSync(t, b, snap, full)
	pb.DeleteService("ns", "old")
	pb.Slice(packetflow.NewSlice("ns", "web", "web-1", v1.IPv4Protocol, "http", v1.ProtocolTCP, 8080, eps([]string{"10.0.1.5"}, "10.0.2.1", "10.0.2.9")...))
	pb.Service(packetflow.NewService("ns", "new", "172.30.0.30", packetflow.Port("p", v1.ProtocolTCP, 443, 30443),
		packetflow.ExternalLocal(31443), packetflow.Affinity(100)))
	pb.Slice(packetflow.NewSlice("ns", "new", "new-1", v1.IPv4Protocol, "p", v1.ProtocolTCP, 8443, eps([]string{"10.0.1.30"})...))
	return pb
}

// TestFailedIPVSCallIsRepaired makes each IPVS write of a sync fail in turn: the
// sync reports it, and the next one, even when the caller hints only a few
// services, repairs everything.
func TestFailedIPVSCallIsRepaired(t *testing.T) {
	for n := 1; ; n++ {
		k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
		faulty := ipvstest.NewFaulty(k.ipvs)
		b := newBackend(t, k, func(o *ipvsmode.Options) { o.IPVS = faulty })
		pb := faultScenario(t, b)
		snap, changes := pb.Snapshot(v1.IPv4Protocol)
		faulty.FailWrite(faulty.Writes() + n)
		err := b.Sync(context.Background(), snap, changes)
		if faulty.Failed() == 0 {
			if n == 1 {
				t.Fatal("the sync made no IPVS write")
			}
			t.Logf("checked %d failing writes", n-1)
			return
		}
		if !errors.Is(err, ipvstest.ErrInjected) {
			t.Fatalf("write %d: Sync = %v, want the injected error", n, err)
		}
		checkRepaired(t, fmt.Sprintf("write %d", n), k, b, snap)
	}
}

// TestFailedIPSetAndIPTablesAreRepaired does the same for the ipset batch and the
// iptables-restore.
func TestFailedIPSetAndIPTablesAreRepaired(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(k *kernel, o *ipvsmode.Options) func()
		want   error
	}{
		{"ipset", func(k *kernel, _ *ipvsmode.Options) func() { return func() { k.sets.FailNext(1) } }, ipsettest.ErrInjected},
		{"iptables-restore", func(k *kernel, o *ipvsmode.Options) func() {
			f := iptablestest.NewFaulty(k.ipt)
			o.IPTables = f
			return func() { f.FailNext(1) }
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
			var arm func()
			b := newBackend(t, k, func(o *ipvsmode.Options) { arm = tc.inject(k, o) })
			pb := faultScenario(t, b)
			snap, changes := pb.Snapshot(v1.IPv4Protocol)
			arm()
			err := b.Sync(context.Background(), snap, changes)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Sync = %v, want a failure", err)
			}
			checkRepaired(t, tc.name, k, b, snap)
		})
	}
}

// checkRepaired syncs with an empty hint and compares with a fresh full sync.
func checkRepaired(t *testing.T, what string, k *kernel, b *ipvsmode.Backend, snap *proxy.Snapshot) {
	t.Helper()
	if err := b.Sync(context.Background(), snap, proxy.Changes{}); err != nil {
		t.Fatalf("%s: the sync after the failure: %v", what, err)
	}
	fresh := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	mustSync(t, newBackend(t, fresh, nil), snap, full)
	if got, want := k.state(), fresh.state(); got != want {
		t.Fatalf("%s: not repaired:\n%s", what, diff(got, want))
	}
}

// TestKernelChangedBehindKproxy: a full sync repairs virtual servers, addresses,
// sets and rules someone removed or added.
func TestKernelChangedBehindKproxy(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	k := newKernel(t, v1.IPv4Protocol, s.NodeIPs...)
	b := newBackend(t, k, withScenario(s))
	mustSync(t, b, s.Snapshot, full)
	want := k.state()
	svcs, _ := k.ipvs.GetServices()
	for _, svc := range svcs[:5] {
		_ = k.ipvs.DelService(svc)
	}
	stray := *svcs[6]
	stray.Port = 9999
	_ = k.ipvs.NewService(&stray)
	_ = k.nl.DelAddress(ipvsmode.DummyDevice, ip("172.30.0.41"))
	_ = k.nl.AddAddress(ipvsmode.DummyDevice, ip("172.30.9.9"))
	if err := k.ipt.Restore(context.Background(), []byte("*filter\n:KUBE-IPVS-FILTER - [0:0]\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.CheckCanary(context.Background()); err != nil || ok {
		t.Errorf("CheckCanary = %v, %v; want the change noticed (false)", ok, err)
	}
	mustSync(t, b, s.Snapshot, full)
	if got := k.state(); got != want {
		t.Errorf("not repaired:\n%s", diff(got, want))
	}
	if ok, err := b.CheckCanary(context.Background()); err != nil || !ok {
		t.Errorf("CheckCanary after the repair = %v, %v; want true", ok, err)
	}
}

// metrics records what the backend reports.
type metrics struct {
	failures int
	rules    map[string]int
}

func (m *metrics) IPTablesRestoreFailed(v1.IPFamily, bool) { m.failures++ }

func (m *metrics) SetIPTablesRules(_ v1.IPFamily, table string, total, _ int) { m.rules[table] = total }

func TestMetrics(t *testing.T) {
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	m := &metrics{rules: map[string]int{}}
	faulty := iptablestest.NewFaulty(k.ipt)
	b := newBackend(t, k, func(o *ipvsmode.Options) { o.Metrics, o.IPTables = m, faulty })
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	web(nodePort)(pb)
	snap, _ := pb.Snapshot(v1.IPv4Protocol)
	faulty.FailNext(1)
	if err := b.Sync(context.Background(), snap, full); err == nil {
		t.Fatal("the sync did not fail")
	}
	mustSync(t, b, snap, full)
	if m.failures != 1 || m.rules["nat"] != 11 || m.rules["filter"] != 10 {
		t.Errorf("metrics: %d failures, rules %v", m.failures, m.rules)
	}
}
