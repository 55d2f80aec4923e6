package iptables_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// These tests run the real binaries, only inside the throwaway network
// namespace TestMain sets up (unshare --net), and compare the kernel's
// state with the fake's after the same operations.

// testSet is an ipset the rules refer to; ipsets live in the namespace.
const testSet = "KPROXY-TEST"

// backends returns a fresh client per variant and family. Each variant has
// its own kernel state (nf_tables or xtables); cleanup flushes both so
// tests do not see each other's rules.
func backends(t *testing.T) []*iptables.Client {
	t.Helper()
	requireNetns(t)
	var cs []*iptables.Client
	for _, v := range []iptables.Variant{iptables.VariantNFT, iptables.VariantLegacy} {
		for _, f := range []iptables.Family{iptables.IPv4, iptables.IPv6} {
			c := iptables.New(f, v)
			if _, err := exec.LookPath(v.Binaries(f).Restore); err != nil {
				t.Logf("skipping %v %v: %v", v, f, err)
				continue
			}
			cs = append(cs, c)
			t.Cleanup(func() { flushAll(t, c) })
		}
	}
	ensureSet(t, iptables.IPv4)
	ensureSet(t, iptables.IPv6)
	return cs
}

func flushAll(t testing.TB, c *iptables.Client) {
	bins := c.Variant().Binaries(c.Family())
	for _, table := range []string{"filter", "nat", "mangle", "raw"} {
		for _, op := range []string{"-F", "-X"} {
			if out, err := exec.Command(bins.Cmd, "-w", "5", "-t", table, op).CombinedOutput(); err != nil {
				t.Logf("%s -t %s %s: %v %s", bins.Cmd, table, op, err, out)
			}
		}
	}
}

func ensureSet(t *testing.T, f iptables.Family) {
	name, family := testSet, "inet"
	if f == iptables.IPv6 {
		name, family = testSet+"6", "inet6"
	}
	if out, err := exec.Command("ipset", "-exist", "create", name, "hash:ip,port", "family", family).CombinedOutput(); err != nil {
		t.Fatalf("ipset create: %v %s", err, out)
	}
}

func setName(f iptables.Family) string {
	if f == iptables.IPv6 {
		return testSet + "6"
	}
	return testSet
}

// newFake returns a fake for c's family that knows the test sets.
func newFake(c *iptables.Client) *iptablestest.Fake {
	f := iptablestest.New(c.Family())
	f.UseIPSets(iptablestest.IPSetMap{setName(c.Family()): {Type: "hash:ip,port"}})
	return f
}

func name(c *iptables.Client) string { return c.Variant().String() + "/" + c.Family().String() }

var countersRE = regexp.MustCompile(`\[[0-9]+:[0-9]+\]`)

// normalise drops iptables-save's comment lines and zeroes counters.
func normalise(save []byte) string {
	var b strings.Builder
	for _, l := range strings.Split(string(save), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, ":") {
			l = countersRE.ReplaceAllString(l, "[0:0]")
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// sameState fails t unless the kernel and the fake save tables equally.
func sameState(t *testing.T, c *iptables.Client, f *iptablestest.Fake, tables ...iptables.Table) {
	t.Helper()
	ctx := context.Background()
	for _, table := range tables {
		real, err := c.Save(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		fake, err := f.Save(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := normalise(real), string(fake); got != want {
			t.Fatalf("%s: kernel and fake differ in table %s\nkernel:\n%s\nfake:\n%s", name(c), table, got, want)
		}
	}
}

// quirkyPayload holds rules whose saved form differs from how they are
// written, on top of a small synthetic service ruleset.
func quirkyPayload(fam iptables.Family) *iptables.Payload {
	svc, cidr, ep := "10.96.0.99", "10.244.0.0/16", "10.244.7.7"
	if fam == iptables.IPv6 {
		svc, cidr, ep = "fd00:96::99", "fd00:244::/64", "fd00:244::7"
	}
	p := &iptables.Payload{}
	iptablestest.Synthetic{Family: fam, Services: 5, Endpoints: 3}.Write(p)
	const filter, nat = iptables.TableFilter, iptables.TableNAT
	p.Chain(filter, "KPROXY-FILTER")
	rule := func(t iptables.Table, chain string, args ...string) { p.Rule(t, chain, args...) }
	rule(filter, "KPROXY-FILTER", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
	rule(filter, "KPROXY-FILTER", "-m", "comment", "--comment", "ns/empty:http has no endpoints", "-d", svc, "-p", "tcp", "--dport", "80", "-j", "REJECT")
	rule(filter, "KPROXY-FILTER", "-m", "mark", "--mark", "0x8000/0x8000", "-j", "DROP")
	rule(filter, "KPROXY-FILTER", "-i", "eth+", "!", "-s", cidr, "-j", "ACCEPT")
	rule(filter, "KPROXY-FILTER", "-m", "set", "--match-set", setName(fam), "dst,dst", "-j", "ACCEPT")
	rule(filter, "KPROXY-FILTER", "-m", "recent", "--name", "sticky", "--rcheck", "--seconds", "10", "--reap", "-j", "ACCEPT")
	rule(filter, "KPROXY-FILTER", "-p", "udp", "--dport", "53", "-m", "comment", "--comment", `quote " backslash \ end`, "--sport", "1000:2000", "-j", "ACCEPT")
	rule(filter, "KPROXY-FILTER", "-p", "tcp", "-m", "multiport", "--dports", "80,443,8000:9000", "-j", "ACCEPT")
	rule(filter, "KPROXY-FILTER", "-m", "addrtype", "--dst-type", "LOCAL", "--src-type", "LOCAL", "-j", "RETURN")
	rule(filter, "KPROXY-FILTER", "-p", "tcp", "--syn", "-m", "conntrack", "!", "--ctstate", "ESTABLISHED,RELATED,DNAT", "-j", "ACCEPT")
	rule(filter, "KPROXY-FILTER", "-p", "sctp", "--dport", "9", "-j", "REJECT")
	rule(filter, "KPROXY-FILTER", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset")
	p.Chain(nat, "KPROXY-NAT")
	rule(nat, "KPROXY-NAT", "-d", svc, "-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "REDIRECT", "--to-ports", "36000")
	rule(nat, "KPROXY-NAT", "-s", ep, "-j", "MARK", "--set-mark", "0x4000")
	rule(nat, "KPROXY-NAT", "-j", "MARK", "--and-mark", "0xffffbfff")
	rule(nat, "KPROXY-NAT", "-m", "mark", "--mark", "0x4000/0xffffffff", "-j", "MASQUERADE", "--random-fully")
	rule(nat, "KPROXY-NAT", "-o", "lo", "-j", "SNAT", "--to-source", ep)
	rule(nat, "KPROXY-NAT", "-m", "statistic", "--mode", "nth", "--every", "3", "--packet", "1", "-j", "RETURN")
	rule(nat, "KPROXY-NAT", "-p", "6", "-j", "DNAT", "--to-destination", iptablestest.Synthetic{Family: fam}.EndpointIP(0, 0).String())
	return p
}

func TestKernelMatchesFake(t *testing.T) {
	ctx := context.Background()
	for _, c := range backends(t) {
		t.Run(name(c), func(t *testing.T) {
			payload, err := quirkyPayload(c.Family()).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			f := newFake(c)
			for _, r := range []iptables.Restorer{c, f} {
				if err := r.Restore(ctx, payload); err != nil {
					t.Fatalf("%T: %v", r, err)
				}
				syn := iptablestest.Synthetic{Family: c.Family()}
				if err := syn.Bootstrap(ctx, r); err != nil {
					t.Fatalf("%T: %v", r, err)
				}
				// Idempotent: the payload and the bootstrap again change nothing.
				if err := r.Restore(ctx, payload); err != nil {
					t.Fatalf("%T: %v", r, err)
				}
				if err := syn.Bootstrap(ctx, r); err != nil {
					t.Fatalf("%T: %v", r, err)
				}
			}
			sameState(t, c, f, iptables.TableNAT, iptables.TableFilter)
			// The kernel's own dump restores into the fake unchanged.
			g := newFake(c)
			for _, table := range []iptables.Table{iptables.TableNAT, iptables.TableFilter} {
				save, err := c.Save(ctx, table)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Restore(ctx, save); err != nil {
					t.Fatalf("the fake cannot read the kernel's save of %s: %v", table, err)
				}
			}
			if g.Dump() != f.Dump() {
				t.Fatalf("fake fed the kernel's save differs:\n%s\nwant:\n%s", g.Dump(), f.Dump())
			}
		})
	}
}

// A payload failing in its nat section leaves that section's state as it
// was, and both the kernel and the fake blame the same line.
func TestKernelFailedRestore(t *testing.T) {
	ctx := context.Background()
	for _, c := range backends(t) {
		t.Run(name(c), func(t *testing.T) {
			f := newFake(c)
			good := "*nat\n:KPROXY-A - [0:0]\n:KPROXY-B - [0:0]\n-A KPROXY-A -j KPROXY-B\n-A KPROXY-B -j RETURN\nCOMMIT\n"
			bad := strings.Join([]string{
				"*filter", ":KPROXY-F - [0:0]", "-A KPROXY-F -j ACCEPT", "COMMIT",
				"*nat", ":KPROXY-A - [0:0]", ":KPROXY-C - [0:0]", "-A KPROXY-A -j KPROXY-C",
				"-A KPROXY-C -j KPROXY-MISSING", "-A KPROXY-C -j RETURN", "COMMIT", ""}, "\n")
			var lines [2]int
			for i, r := range []iptables.Restorer{c, f} {
				if err := r.Restore(ctx, []byte(good)); err != nil {
					t.Fatal(err)
				}
				err := r.Restore(ctx, []byte(bad))
				var re *iptables.RestoreError
				if !errors.As(err, &re) {
					t.Fatalf("%T: got %v, want a *RestoreError", r, err)
				}
				if re.Rule != "-A KPROXY-C -j KPROXY-MISSING" || !strings.Contains(err.Error(), re.Rule) {
					t.Errorf("%T: error %q does not name the failing rule", r, err)
				}
				lines[i] = re.Line
			}
			if lines[0] != 9 || lines[1] != 9 {
				t.Errorf("failing line: kernel %d, fake %d, want 9", lines[0], lines[1])
			}
			sameState(t, c, f, iptables.TableNAT, iptables.TableFilter)
			if ok, err := c.ChainExists(ctx, iptables.TableFilter, "KPROXY-F"); err != nil || !ok {
				t.Errorf("the filter section committed before the failure was lost (%v)", err)
			}
		})
	}
}

// noflushCases run through the kernel and the fake, which must agree on
// success and on the resulting state.
var noflushCases = []struct {
	name    string
	payload string
	fails   bool
	nftOK   bool // iptables-nft accepts it; the fake refuses it like legacy
}{
	{"declare flushes a user chain", ":KPROXY-A - [0:0]\n", false, false},
	{"declare keeps a built-in chain", ":PREROUTING ACCEPT [0:0]\n", false, false},
	{"append to an undeclared existing chain", "-A KPROXY-A -s 10.9.9.9/32 -j RETURN\n", false, false},
	{"append to a missing chain", "-A KPROXY-NONE -j RETURN\n", true, false},
	{"jump to a missing chain", ":KPROXY-A - [0:0]\n-A KPROXY-A -j KPROXY-NONE\n", true, false},
	{"delete a referenced chain", ":KPROXY-B - [0:0]\n-X KPROXY-B\n", true, false},
	{"delete a chain with rules", "-X KPROXY-B\n", true, false},
	{"flush the referrer then delete", ":KPROXY-A - [0:0]\n:KPROXY-B - [0:0]\n-X KPROXY-B\n", false, false},
	{"delete a missing chain", "-X KPROXY-NONE\n", true, false},
	{"new chain that exists", "-N KPROXY-A\n", true, false},
	{"insert and delete", "-I KPROXY-A 2 -d 10.1.1.1 -j RETURN\n-D KPROXY-A -j KPROXY-B\n", false, false},
	{"delete a missing rule", "-D KPROXY-A -d 10.7.7.7/32 -j RETURN\n", true, false},
	{"insert past the end", "-I KPROXY-A 9 -j RETURN\n", true, false},
	{"drop in nat", ":KPROXY-A - [0:0]\n-A KPROXY-A -j DROP\n", true, false},
	{"port without protocol", ":KPROXY-A - [0:0]\n-A KPROXY-A -j DNAT --to-destination 10.1.1.1:80\n", true, false},
	{"policy on a user chain", ":KPROXY-D DROP [0:0]\n", true, true},
	{"delete a built-in chain", "-X PREROUTING\n", true, false},
}

func TestKernelNoflushSemantics(t *testing.T) {
	ctx := context.Background()
	const base = "*nat\n:KPROXY-A - [0:0]\n:KPROXY-B - [0:0]\n-A PREROUTING -j KPROXY-A\n-A KPROXY-A -j KPROXY-B\n-A KPROXY-A -s 10.1.2.3/32 -j ACCEPT\n-A KPROXY-B -j RETURN\nCOMMIT\n"
	for _, c := range backends(t) {
		if c.Family() != iptables.IPv4 {
			continue
		}
		for _, tc := range noflushCases {
			t.Run(name(c)+"/"+tc.name, func(t *testing.T) {
				flushAll(t, c)
				f := newFake(c)
				payload := "*nat\n" + tc.payload + "COMMIT\n"
				for _, r := range []iptables.Restorer{c, f} {
					if err := r.Restore(ctx, []byte(base)); err != nil {
						t.Fatal(err)
					}
					fails := tc.fails && !(tc.nftOK && r == iptables.Restorer(c) && c.Variant() == iptables.VariantNFT)
					if err := r.Restore(ctx, []byte(payload)); (err != nil) != fails {
						t.Fatalf("%T: got %v, want failure %v", r, err, fails)
					}
				}
				if !tc.nftOK || c.Variant() != iptables.VariantNFT {
					sameState(t, c, f, iptables.TableNAT)
				}
			})
		}
	}
}

func TestKernelBootstrapHelpers(t *testing.T) {
	ctx := context.Background()
	for _, c := range backends(t) {
		t.Run(name(c), func(t *testing.T) {
			f := newFake(c)
			jump := []string{"-m", "comment", "--comment", "kproxy portals", "-j", "KPROXY-SERVICES"}
			dst, dstBits := "10.0.0.1", "10.0.0.1/32"
			if c.Family() == iptables.IPv6 {
				dst, dstBits = "fd00::1", "fd00::1/128"
			}
			for _, r := range []iptables.Restorer{c, f} {
				steps := []struct {
					name string
					run  func() (bool, error)
					want bool
				}{
					{"EnsureChain new", func() (bool, error) { return r.EnsureChain(ctx, iptables.TableNAT, "KPROXY-SERVICES") }, false},
					{"EnsureChain again", func() (bool, error) { return r.EnsureChain(ctx, iptables.TableNAT, "KPROXY-SERVICES") }, true},
					{"EnsureChain other", func() (bool, error) { return r.EnsureChain(ctx, iptables.TableNAT, "KPROXY-OTHER") }, false},
					{"EnsureRule new", func() (bool, error) {
						return r.EnsureRule(ctx, iptables.Append, iptables.TableNAT, "OUTPUT", jump...)
					}, false},
					{"EnsureRule again", func() (bool, error) {
						return r.EnsureRule(ctx, iptables.Prepend, iptables.TableNAT, "OUTPUT", jump...)
					}, true},
					{"EnsureRule first", func() (bool, error) {
						return r.EnsureRule(ctx, iptables.Prepend, iptables.TableNAT, "OUTPUT", "-d", dst, "-j", "KPROXY-OTHER")
					}, false},
					{"DeleteRule", func() (bool, error) {
						return false, r.DeleteRule(ctx, iptables.TableNAT, "OUTPUT", "-d", dstBits, "-j", "KPROXY-OTHER")
					}, false},
					{"DeleteRule missing", func() (bool, error) {
						return false, r.DeleteRule(ctx, iptables.TableNAT, "OUTPUT", "-d", dstBits, "-j", "KPROXY-OTHER")
					}, false},
					{"DeleteChain", func() (bool, error) { return false, r.DeleteChain(ctx, iptables.TableNAT, "KPROXY-OTHER") }, false},
					{"DeleteChain missing", func() (bool, error) { return false, r.DeleteChain(ctx, iptables.TableNAT, "KPROXY-OTHER") }, false},
					{"ChainExists", func() (bool, error) { return r.ChainExists(ctx, iptables.TableNAT, "KPROXY-SERVICES") }, true},
					{"ChainExists deleted", func() (bool, error) { return r.ChainExists(ctx, iptables.TableNAT, "KPROXY-OTHER") }, false},
				}
				for _, s := range steps {
					got, err := s.run()
					if err != nil || got != s.want {
						t.Fatalf("%T %s: got %v, %v; want %v", r, s.name, got, err, s.want)
					}
				}
			}
			sameState(t, c, f, iptables.TableNAT)
		})
	}
}

// BenchmarkKernelRestore restores synthetic payloads of 1,000 and 10,000
// services (two endpoints each: ~10k and ~100k lines) with the real
// binaries; every iteration after the first flushes and refills every
// chain. Select one with -bench, e.g. 'KernelRestore/legacy/100k': the
// nft variant needs minutes for the large payload.
func BenchmarkKernelRestore(b *testing.B) {
	requireNetns(b)
	for _, v := range []iptables.Variant{iptables.VariantNFT, iptables.VariantLegacy} {
		for _, services := range []int{1000, 10000} {
			syn := iptablestest.Synthetic{Family: iptables.IPv4, Services: services, Endpoints: 2}
			b.Run(fmt.Sprintf("%v/%dk", v, syn.Lines()/1000), func(b *testing.B) {
				var p iptables.Payload
				syn.Write(&p)
				payload, err := p.Bytes()
				if err != nil {
					b.Fatal(err)
				}
				c := iptables.New(iptables.IPv4, v)
				b.Cleanup(func() { flushAll(b, c) })
				ctx := context.Background()
				for b.Loop() {
					if err := c.Restore(ctx, payload); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(syn.Lines()), "lines/op")
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
			})
		}
	}
}

// Detect follows the hint chain kubelet leaves in the mangle table.
func TestKernelDetect(t *testing.T) {
	ctx := context.Background()
	cs := backends(t)
	if v, err := iptables.Detect(ctx); err != nil || v != iptables.VariantNFT {
		t.Fatalf("empty node: got %v, %v; want nft", v, err)
	}
	for _, c := range cs {
		if c.Family() != iptables.IPv4 {
			continue
		}
		if _, err := c.EnsureChain(ctx, iptables.TableMangle, "KUBE-IPTABLES-HINT"); err != nil {
			t.Fatal(err)
		}
		if v, err := iptables.Detect(ctx); err != nil || v != c.Variant() {
			t.Errorf("hint in %v: got %v, %v", c.Variant(), v, err)
		}
		flushAll(t, c)
	}
}
