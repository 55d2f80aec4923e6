package ipvsmode_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestIPSetMembers checks what the standard scenario puts in each set.
func TestIPSetMembers(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	k := newKernel(t, v1.IPv4Protocol, s.NodeIPs...)
	mustSync(t, newBackend(t, k, withScenario(s)), s.Snapshot, full)
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"KUBE-NODE-PORT-TCP", []string{"3002", "3003", "3004", "3005", "3007", "3012"}},
		{"KUBE-NODE-PORT-LOCAL-TCP", []string{"3004", "3005", "3012"}},
		{"KUBE-NODE-PORT-UDP", nil},
		{"KUBE-HEALTH-CHECK-NODE-PORT", []string{"30004", "30005", "30012"}},
		{"KUBE-EXTERNAL-IP", []string{"192.168.99.11,tcp:80"}},
		{"KUBE-LOAD-BALANCER", []string{"5.6.7.8,tcp:80", "5.6.7.9,tcp:80"}},
		{"KUBE-LOAD-BALANCER-LOCAL", []string{"5.6.7.9,tcp:80"}},
		{"KUBE-LOAD-BALANCER-FW", []string{"5.6.7.8,tcp:80"}},
		{"KUBE-LOAD-BALANCER-SOURCE-CIDR", []string{"5.6.7.8,tcp:80,203.0.113.0/24"}},
		{"KUBE-LOAD-BALANCER-SOURCE-IP", nil}, // the node is outside the range
		{"KUBE-LOOP-BACK", []string{"10.0.1.1,tcp:8080,10.0.1.1", "10.0.1.10,tcp:80,10.0.1.10", "10.0.1.12,tcp:80,10.0.1.12",
			"10.0.1.3,tcp:80,10.0.1.3", "10.0.1.4,tcp:80,10.0.1.4", "10.0.1.8,tcp:80,10.0.1.8", "10.0.1.9,udp:53,10.0.1.9"}},
	} {
		if got := k.sets.Members(tc.set); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s = %v, want %v", tc.set, got, tc.want)
		}
	}
	// Every address bound to kube-ipvs0 is in KUBE-IPVS-IPS, and no other.
	if got, want := strings.Join(k.sets.Members("KUBE-IPVS-IPS"), " "), sortedStrings(k.nl.LinkAddresses(ipvsmode.DummyDevice)); got != want {
		t.Errorf("KUBE-IPVS-IPS = %s, want the addresses of kube-ipvs0: %s", got, want)
	}
	if got := len(k.sets.Members("KUBE-CLUSTER-IP")); got != 12 {
		t.Errorf("KUBE-CLUSTER-IP has %d members, want one per service port (12)", got)
	}
}

// TestIPSetNamesIPv6: IPv6 sets are named KUBE-6-..., within the kernel's 31
// characters, so both families can coexist.
func TestIPSetNamesIPv6(t *testing.T) {
	s := packetflow.Standard(v1.IPv6Protocol, false)
	k := newKernel(t, v1.IPv6Protocol, s.NodeIPs...)
	mustSync(t, newBackend(t, k, withScenario(s)), s.Snapshot, full)
	if got, want := k.sets.Sets(), sortedCopy(ipvsmode.SetNames(true)); !slices.Equal(got, want) {
		t.Errorf("sets = %v, want %v", got, want)
	}
	if !slices.Contains(k.sets.Sets(), "KUBE-6-LOAD-BALANCER-SOURCE-CID") {
		t.Errorf("the longest name is not cut to 31 characters: %v", k.sets.Sets())
	}
	if got := k.sets.Members("KUBE-6-LOAD-BALANCER"); !slices.Equal(got, []string{"fd00::5:6:7:8,tcp:80", "fd00::5:6:7:9,tcp:80"}) {
		t.Errorf("KUBE-6-LOAD-BALANCER = %v", got)
	}
}

// TestRulesWrittenOnlyWhenFeaturesChange: endpoint and service changes that leave
// the same sets in use write no iptables rules; the first load balancer does.
func TestRulesWrittenOnlyWhenFeaturesChange(t *testing.T) {
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	b := newBackend(t, k, nil)
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	web(nodePort)(pb)
	snap, _ := pb.Snapshot(v1.IPv4Protocol)
	mustSync(t, b, snap, full)
	restores := k.ipt.Restores()
	step := func(what string, change func(), wantRestore bool) {
		t.Helper()
		change()
		snap, changes := pb.Snapshot(v1.IPv4Protocol)
		mustSync(t, b, snap, changes)
		got := k.ipt.Restores() > restores
		restores = k.ipt.Restores()
		if got != wantRestore {
			t.Errorf("%s: iptables-restore ran: %v, want %v", what, got, wantRestore)
		}
	}
	step("endpoint added", func() {
		pb.Slice(packetflow.NewSlice("ns", "web", "web-1", v1.IPv4Protocol, "http", v1.ProtocolTCP, 8080,
			eps([]string{"10.0.1.1", "10.0.1.2"}, "10.0.2.1")...))
	}, false)
	step("second service", func() {
		pb.Service(packetflow.NewService("ns", "api", "172.30.0.11", packetflow.Port("http", v1.ProtocolTCP, 80, 30081)))
	}, false)
	step("first load balancer", func() {
		pb.Service(packetflow.NewService("ns", "lb", "172.30.0.12", packetflow.Port("http", v1.ProtocolTCP, 80, 0),
			packetflow.LoadBalancer([]string{"5.6.7.8"})))
	}, true)
	step("load balancer gone", func() { pb.DeleteService("ns", "lb") }, true)
	step("nothing", func() {}, false)
}

// TestSyncIsIdempotent: syncing the same snapshot again, fully or not, calls
// nothing that changes the kernel.
func TestSyncIsIdempotent(t *testing.T) {
	s := packetflow.Standard(v1.IPv4Protocol, false)
	k := newKernel(t, v1.IPv4Protocol, s.NodeIPs...)
	b := newBackend(t, k, withScenario(s))
	mustSync(t, b, s.Snapshot, full)
	before, restores, applies := k.state(), k.ipt.Restores(), k.sets.Applies()
	k.ipvs.ResetOps()
	everything := proxy.Changes{Services: map[nsName]struct{}{}}
	for _, n := range s.Snapshot.Sorted() {
		everything.Services[n.NamespacedName] = struct{}{}
	}
	for _, changes := range []proxy.Changes{{}, everything} {
		if err := b.Sync(context.Background(), s.Snapshot, changes); err != nil {
			t.Fatal(err)
		}
	}
	if ops := k.ipvs.Ops(); ops.Writes() != 0 || k.ipt.Restores() != restores || k.sets.Applies() != applies {
		t.Errorf("a repeated sync changed something: IPVS %+v, %d restores, %d ipset batches",
			ops, k.ipt.Restores()-restores, k.sets.Applies()-applies)
	}
	mustSync(t, b, s.Snapshot, full)
	if after := k.state(); after != before {
		t.Errorf("a repeated full sync changed the state:\n%s", diff(after, before))
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestSourceRanges: a /0 range, which no hash:net set can hold, is stored as its
// two halves; a range holding the node lets the node itself in (the node reaches
// an address of its own from that address) instead of adding a node-access filter.
func TestSourceRanges(t *testing.T) {
	k := syncOnce(t, nil, func(pb *packetflow.Builder) {
		pb.Service(packetflow.NewService("ns", "open", "172.30.0.10", packetflow.Port("p", v1.ProtocolTCP, 80, 0),
			packetflow.LoadBalancer([]string{"5.6.7.8"}, "0.0.0.0/0")))
		pb.Service(packetflow.NewService("ns", "closed", "172.30.0.11", packetflow.Port("p", v1.ProtocolTCP, 80, 0),
			packetflow.LoadBalancer([]string{"5.6.7.9"}, "fd00::/64")))
	})
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"KUBE-LOAD-BALANCER-FW", []string{"5.6.7.8,tcp:80", "5.6.7.9,tcp:80"}},
		{"KUBE-LOAD-BALANCER-SOURCE-CIDR", []string{"5.6.7.8,tcp:80,0.0.0.0/1", "5.6.7.8,tcp:80,128.0.0.0/1"}},
		{"KUBE-LOAD-BALANCER-SOURCE-IP", []string{"5.6.7.8,tcp:80,5.6.7.8"}},
	} {
		if got := k.sets.Members(tc.set); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.set, got, tc.want)
		}
	}
	// The service whose ranges are all IPv6 lets no IPv4 client in, the node neither.
	if d := k.ipt.Dump(); !strings.Contains(d, "-A KUBE-IPVS-OUT-FILTER -s 5.6.7.9/32 -m ipvs --vaddr 5.6.7.9 --vproto tcp --vport 80 -j DROP") ||
		strings.Contains(d, "--vaddr 5.6.7.8 ") {
		t.Errorf("node-access filters:\n%s", d)
	}
}
