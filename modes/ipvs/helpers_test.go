package ipvsmode_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/modes/ipvs/ipvstest"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/ipset/ipsettest"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// The fakes satisfy the mode's seams.
var (
	_ ipvsmode.Handle  = (*ipvstest.Fake)(nil)
	_ ipvsmode.Handle  = (*ipvstest.Faulty)(nil)
	_ ipvsmode.Netlink = (*ipvstest.Netlink)(nil)
)

// node is this node's name and address in the tests.
const node = packetflow.ThisNode

// kernel is one node's fakes: IPVS, links, ipsets, iptables and sysctls.
type kernel struct {
	family v1.IPFamily
	ipvs   *ipvstest.Fake
	nl     *ipvstest.Netlink
	sets   *ipsettest.Fake
	ipt    *iptablestest.Fake
	sysctl ipvsmode.SysctlDir
}

// newKernel returns fakes of a node whose eth0 holds nodeIPs.
func newKernel(t testing.TB, family v1.IPFamily, nodeIPs ...netip.Addr) *kernel {
	return newKernelWith(t, family, sysctlDir(t), nodeIPs...)
}

// newKernelWith is newKernel with the given sysctls.
func newKernelWith(t testing.TB, family v1.IPFamily, sysctl ipvsmode.SysctlDir, nodeIPs ...netip.Addr) *kernel {
	k := &kernel{family: family, ipvs: ipvstest.New(), nl: ipvstest.NewNetlink(), sets: ipsettest.New(), sysctl: sysctl}
	k.nl.AddLink("eth0", nodeIPs...)
	fam := iptables.IPv4
	if family == v1.IPv6Protocol {
		fam = iptables.IPv6
	}
	k.ipt = iptablestest.New(fam)
	k.ipt.UseIPSets(k.sets)
	k.sets.SetInUse(func(name string) bool { return strings.Contains(k.ipt.Dump(), " "+name+" ") })
	return k
}

// sysctlDir returns a temporary /proc/sys with the directories IPVS mode writes to,
// as on a node where the ip_vs module is loaded.
func sysctlDir(t testing.TB) ipvsmode.SysctlDir {
	dir := t.TempDir()
	for _, d := range []string{"net/ipv4/vs", "net/ipv4/conf/all", "kernel"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return ipvsmode.SysctlDir(dir)
}

// options returns backend options over the kernel's fakes.
func (k *kernel) options() ipvsmode.Options {
	return ipvsmode.Options{Family: k.family, IPVS: k.ipvs, Netlink: k.nl, IPSet: k.sets, IPTables: k.ipt, Sysctl: k.sysctl}
}

// state prints everything a user could look at: virtual servers, addresses of
// kube-ipvs0, ipsets and iptables rules.
func (k *kernel) state() string {
	var b strings.Builder
	b.WriteString(k.ipvs.Dump())
	b.WriteString("kube-ipvs0:")
	for _, a := range k.nl.LinkAddresses(ipvsmode.DummyDevice) {
		b.WriteString(" " + a.String())
	}
	b.WriteString("\n" + k.sets.Dump() + k.ipt.Dump())
	return b.String()
}

// newBackend returns a set-up backend over k, with opts changed by edit.
func newBackend(t testing.TB, k *kernel, edit func(*ipvsmode.Options)) *ipvsmode.Backend {
	t.Helper()
	opts := k.options()
	if edit != nil {
		edit(&opts)
	}
	b, err := ipvsmode.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Setup(context.Background()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return b
}

var full = proxy.Changes{Full: true}

// mustSync syncs and fails the test on error.
func mustSync(t testing.TB, b *ipvsmode.Backend, snap *proxy.Snapshot, changes proxy.Changes) {
	t.Helper()
	if err := b.Sync(context.Background(), snap, changes); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// ip parses an address.
func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// newClock returns a fake clock.
func newClock() *testingclock.FakeClock { return testingclock.NewFakeClock(time.Unix(1_000_000, 0)) }

// eps returns endpoints on this node (local) and on another one (remote).
func eps(local []string, remote ...string) []packetflow.Endpoint {
	var out []packetflow.Endpoint
	for _, a := range local {
		out = append(out, packetflow.Endpoint{IP: a, Node: node})
	}
	for _, a := range remote {
		out = append(out, packetflow.Endpoint{IP: a, Node: packetflow.OtherNode})
	}
	return out
}

// diff returns a line diff of two texts, for test messages.
func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}

// nsName is a service's name.
type nsName = types.NamespacedName

// sortedStrings prints addresses sorted as strings, the way ipset lists them.
func sortedStrings(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

type (
	ipvsOptions    = ipvsmode.Options
	optsEdit       = func(*ipvsmode.Options)
	snapshot       = proxy.Snapshot
	changes        = proxy.Changes
	discoverySlice = discovery.EndpointSlice
)

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

var _ ipvsmode.Metrics = (*proxy.Metrics)(nil)
