package iptablesmode

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/fuzzcorpus"
	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// FuzzRender plays programs of bad Services and EndpointSlices (see fuzzcorpus)
// through the real proxy.Table into the backend, for both families, over the fake
// iptables, which rejects what the kernel would. Every sync must succeed: the first
// full, the later ones partial as the table's changes say; after each one the fake
// must hold what a full sync of the same snapshot gives in a new fake, syncing again
// without changes must leave it so, and traffic to the anchor service must reach its
// endpoints. The last input byte picks options
// (masquerading, cluster CIDR, node port addresses...).
//
// The seed corpus runs with `go test`; fuzz with `go test -fuzz FuzzRender ./modes/iptables/`.
func FuzzRender(f *testing.F) {
	for _, seed := range fuzzcorpus.Seeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
			playProgram(t, family, fuzzcorpus.Generate(data), fuzzOptions(family, data), nil)
		}
	})
}

// TestRenderRegressions plays the hand-written programs of the bugs the fuzzers
// found, with default options and with every option on.
func TestRenderRegressions(t *testing.T) {
	for name, steps := range fuzzcorpus.Regressions() {
		for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
			for _, optByte := range []byte{0, 0xff} {
				t.Run(fmt.Sprintf("%s/%s/options%#x", name, family, optByte), func(t *testing.T) {
					playProgram(t, family, steps, fuzzOptions(family, []byte{optByte}), nil)
				})
			}
		}
	}
}

// TestRenderRealKernel plays the regression programs, the seed corpus and more
// generated programs into the real iptables-restore of each variant (nft, legacy)
// and family, in this test's own network namespace, beside the fake: the kernel
// must accept every payload the fake accepts and end up holding what the fake holds.
func TestRenderRealKernel(t *testing.T) {
	requireNetns(t)
	if testing.Short() {
		t.Skip("about 30 s of iptables-restore runs; skipped with -short")
	}
	type input struct {
		name  string
		steps []fuzzcorpus.Step
		data  []byte // picks the options
	}
	var inputs []input
	for name, steps := range fuzzcorpus.Regressions() {
		inputs = append(inputs, input{name, steps, []byte{0}}, input{name + "/options", steps, []byte{0xbf}},
			input{name + "/options-cidr0", steps, []byte{0xff}})
	}
	seeds := fuzzcorpus.Seeds()
	rng := rand.New(rand.NewPCG(99, 1))
	for i := range 16 {
		b := make([]byte, 256+i*256)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		seeds = append(seeds, b)
	}
	for i, data := range seeds {
		inputs = append(inputs, input{fmt.Sprintf("input%d", i), fuzzcorpus.Generate(data), data})
	}
	for _, variant := range realVariants(t) {
		for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
			for _, in := range inputs {
				t.Run(fmt.Sprintf("%s/%s/%s", variant, family, in.name), func(t *testing.T) {
					client := iptables.New(familyOf(family), variant)
					t.Cleanup(func() { resetKernel(t, client) })
					kernel := playProgram(t, family, in.steps, fuzzOptions(family, in.data), client)
					if err := kernel.Cleanup(context.Background()); err != nil {
						t.Fatalf("Cleanup: %v", err)
					}
					dropLocalnetFirewall(t, client)
					if left := realDump(t, client); left != "" {
						t.Fatalf("kernel rules left after Cleanup:\n%s", left)
					}
				})
			}
		}
	}
}

// resetKernel removes whatever kproxy rules a failed subtest left, so the next one
// starts from empty tables.
func resetKernel(t *testing.T, client *iptables.Client) {
	be, err := New(Options{Family: map[iptables.Family]v1.IPFamily{iptables.IPv4: v1.IPv4Protocol, iptables.IPv6: v1.IPv6Protocol}[client.Family()], IPTables: client})
	if err == nil {
		err = be.Cleanup(context.Background())
	}
	if err != nil {
		t.Errorf("resetting the kernel: %v", err)
	}
	dropLocalnetFirewall(t, client)
}

// dropLocalnetFirewall removes KUBE-FIREWALL, which kproxy writes with localhost node
// ports but, as kubelet writes the same chain, never deletes.
func dropLocalnetFirewall(t *testing.T, client *iptables.Client) {
	ctx := context.Background()
	if ok, err := client.ChainExists(ctx, iptables.TableFilter, chainLocalnetFirewall); err != nil || !ok {
		return
	}
	for _, from := range []string{"INPUT", "OUTPUT"} {
		if err := client.DeleteRule(ctx, iptables.TableFilter, from, "-j", chainLocalnetFirewall); err != nil {
			t.Errorf("deleting the jump to %s: %v", chainLocalnetFirewall, err)
		}
	}
	if err := client.DeleteChain(ctx, iptables.TableFilter, chainLocalnetFirewall); err != nil {
		t.Errorf("deleting %s: %v", chainLocalnetFirewall, err)
	}
}

// playProgram plays steps for family into a backend with opts over a fake and, when
// real is set, into a second backend over real, which it returns; it fails t at the
// first sync that goes wrong.
func playProgram(t *testing.T, family v1.IPFamily, steps []fuzzcorpus.Step, opts Options, real iptables.Restorer) *Backend {
	t.Helper()
	ctx := context.Background()
	fake := iptablestest.New(familyOf(family))
	be := fuzzBackend(t, opts, fake)
	var kernel *Backend
	if real != nil {
		kernel = fuzzBackend(t, opts, real)
	}
	feeder := fuzzcorpus.NewFeeder()
	syncs := 0
	for i, step := range steps {
		feeder.Feed(step)
		if step.Kind != fuzzcorpus.Sync {
			continue
		}
		applied := feeder.Table.Apply()
		snap := feeder.Table.Snapshot(family)
		changes := proxy.Changes{Full: syncs == 0 || applied.NodeChanged, Services: applied.Services}
		syncs++
		if err := be.Sync(ctx, snap, changes); err != nil {
			t.Fatalf("step %d: %s sync (full=%v) failed: %v", i, family, changes.Full, err)
		}
		got := fake.Dump()
		if want := fuzzFreshDump(t, opts, snap); got != want {
			t.Fatalf("step %d: %s rules after a sync (full=%v) differ from a fresh full sync:\n%s", i, family, changes.Full, diff(got, want))
		}
		if err := be.Sync(ctx, snap, proxy.Changes{}); err != nil || fake.Dump() != got {
			t.Fatalf("step %d: %s sync of an unchanged snapshot failed (%v) or changed the rules", i, family, err)
		}
		checkAnchorTraffic(t, fake, snap)
		if kernel != nil {
			if err := kernel.Sync(ctx, snap, changes); err != nil {
				t.Fatalf("step %d: kernel refused a %s sync (full=%v) the fake accepted: %v", i, family, changes.Full, err)
			}
		}
	}
	if client, ok := real.(*iptables.Client); ok {
		if got, want := realDump(t, client), canonical(fake.Dump()); got != want {
			t.Fatalf("kernel differs from the fake:\n%s", diff(got, want))
		}
	}
	return kernel
}

// fuzzOptions derives the backend's options from the last byte of data.
func fuzzOptions(family v1.IPFamily, data []byte) Options {
	var b byte
	if len(data) > 0 {
		b = data[len(data)-1]
	}
	o := Options{Family: family, MasqueradeAll: b&1 != 0, RandomFully: b&2 != 0, LocalhostNodePorts: b&4 != 0,
		ConntrackTCPBeLiberal: b&8 != 0}
	switch {
	case b&16 != 0 && b&64 != 0: // every source is a pod: iptables-nft refuses "! -s 0.0.0.0/0"
		o.ClusterCIDRs = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	case b&16 != 0:
		o.ClusterCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/16")}
	}
	if b&32 != 0 {
		for _, ip := range fuzzcorpus.NodeIPs() {
			o.NodePortAddresses = append(o.NodePortAddresses, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return o
}

// fuzzBackend returns a set-up backend with opts over ipt.
func fuzzBackend(t *testing.T, opts Options, ipt iptables.Restorer) *Backend {
	t.Helper()
	opts.IPTables = ipt
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Setup(context.Background()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return b
}

// fuzzFreshDump returns what a full sync of snap leaves in a new fake.
func fuzzFreshDump(t *testing.T, opts Options, snap *proxy.Snapshot) string {
	t.Helper()
	fake := iptablestest.New(familyOf(snap.Family))
	if err := fuzzBackend(t, opts, fake).Sync(context.Background(), snap, proxy.Changes{Full: true}); err != nil {
		t.Fatalf("fresh full %s sync failed: %v", snap.Family, err)
	}
	return fake.Dump()
}

// checkAnchorTraffic traces a connection from a pod to each port of the anchor
// service through the fake: it must be DNATed to the anchor's endpoints, and only
// to them.
func checkAnchorTraffic(t *testing.T, fake *iptablestest.Fake, snap *proxy.Snapshot) {
	t.Helper()
	tr := iptablestest.NewTracer(fake, iptablestest.Node{LocalAddrs: fuzzcorpus.NodeIPs()})
	src := netip.MustParseAddr("10.0.9.9")
	if snap.Family == v1.IPv6Protocol {
		src = netip.MustParseAddr("fd00::9:9")
	}
	for _, p := range fuzzcorpus.AnchorPorts(snap.Family) {
		outs, err := tr.Trace(iptablestest.Packet{Source: src, SourcePort: 40000, Protocol: toLower(p.Protocol),
			Dest: p.ClusterIP, DestPort: p.Port})
		if err != nil {
			t.Fatalf("tracing the anchor: %v", err)
		}
		var got []netip.AddrPort
		for _, o := range outs {
			if o.Verdict != iptablestest.DNAT {
				t.Fatalf("traffic to the anchor %s %s:%d ends in %s\nrules:\n%s", p.Protocol, p.ClusterIP, p.Port, o, fake.Dump())
			}
			got = append(got, o.To)
		}
		slices.SortFunc(got, netip.AddrPort.Compare)
		if got = slices.Compact(got); !slices.Equal(got, p.Endpoints) {
			t.Fatalf("traffic to the anchor %s %s:%d goes to %v, want %v", p.Protocol, p.ClusterIP, p.Port, got, p.Endpoints)
		}
	}
}

// toLower returns a protocol in the lower case the tracer takes.
func toLower(p v1.Protocol) string {
	switch p {
	case v1.ProtocolUDP:
		return "udp"
	case v1.ProtocolSCTP:
		return "sctp"
	}
	return "tcp"
}
