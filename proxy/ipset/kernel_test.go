//go:build linux

package ipset_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/ipset/ipsettest"
)

// inNetns is set in the environment of the test binary re-run in a new network
// namespace.
const inNetns = "KPROXY_IPSET_TEST_NETNS"

// TestRunnerAgainstKernel runs the same batches through each real Interface — the
// ipset tool and netlink — in a throwaway user and network namespace ("unshare
// -rn"), and through the fake, and checks they list the same sets and fail alike.
// It is skipped when the node has no ipset tool or cannot create namespaces.
func TestRunnerAgainstKernel(t *testing.T) {
	if os.Getenv(inNetns) == "" {
		reexecInNetns(t)
		return
	}
	for _, impl := range []struct {
		name string
		real ipset.Interface
	}{
		{"tool", ipset.New()},
		{"netlink", ipset.NewNetlink()},
	} {
		t.Run(impl.name, func(t *testing.T) { compareWithFake(t, impl.real) })
	}
}

// compareWithFake applies kernelBatches to real and to a fake; real must end up
// with no sets left, as the batches destroy what they create.
func compareWithFake(t *testing.T, real ipset.Interface) {
	ctx := context.Background()
	fake := ipsettest.New()
	v, err := real.Version(ctx)
	if err != nil || ipset.CheckVersion(v) != nil {
		t.Fatalf("ipset version %q: %v", v, err)
	}
	for i, build := range kernelBatches {
		var b ipset.Batch
		build(&b)
		errReal, errFake := real.Apply(ctx, &b), fake.Apply(ctx, &b)
		if (errReal == nil) != (errFake == nil) {
			t.Fatalf("batch %d: kernel says %v, fake says %v", i, errReal, errFake)
		}
		got, err := real.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fake.List(ctx)
		if !slices.EqualFunc(got, want, func(a, b ipset.Contents) bool { return a.Set == b.Set && slices.Equal(a.Entries, b.Entries) }) {
			t.Fatalf("batch %d: kernel holds\n%+v\nfake holds\n%+v", i, got, want)
		}
	}
}

var (
	v4 = ipset.Set{Name: "KUBE-LOOP-BACK", Type: ipset.HashIPPortIP, Family: ipset.Inet}
	v6 = ipset.Set{Name: "KUBE-6-LOAD-BALANCER-SOURCE-CID", Type: ipset.HashIPPortNet, Family: ipset.Inet6}
	bm = ipset.Set{Name: "KUBE-NODE-PORT-UDP", Type: ipset.BitmapPort}
	ip = ipset.Set{Name: "KUBE-6-IPVS-IPS", Type: ipset.HashIP, Family: ipset.Inet6}
)

// kernelBatches are applied in order; some must fail, on both sides alike.
var kernelBatches = []func(b *ipset.Batch){
	func(b *ipset.Batch) {
		for _, s := range []ipset.Set{v4, v6, bm, ip} {
			b.Create(s)
		}
		b.Add(v4.Name, "10.0.1.1,tcp:8080,10.0.1.1")
		b.Add(v4.Name, "10.0.1.2,sctp:9,10.0.1.2")
		b.Add(v6.Name, "fd00::5:6:7:8,tcp:80,fd00::203:0:113:0/112")
		b.Add(v6.Name, "fd00::5:6:7:8,tcp:80,fd00::1/128")
		b.Add(bm.Name, "30053")
		b.Add(ip.Name, "fd00:0::0:1")
	},
	func(b *ipset.Batch) { // all again: -exist makes it a no-op
		for _, s := range []ipset.Set{v4, v6, bm, ip} {
			b.Create(s)
		}
		b.Add(bm.Name, "30053")
		b.Del(bm.Name, "30054")
	},
	func(b *ipset.Batch) {
		b.Del(v4.Name, "10.0.1.2,sctp:9,10.0.1.2")
		b.Add(bm.Name, "udp:30054")
		b.Flush(ip.Name)
	},
	func(b *ipset.Batch) { b.Create(ipset.Set{Name: v4.Name, Type: ipset.HashIP, Family: ipset.Inet}) }, // fails
	func(b *ipset.Batch) { b.Add("KUBE-NOPE", "1") },                                                    // fails
	func(b *ipset.Batch) { b.Destroy(ip.Name); b.Destroy(bm.Name) },
	func(b *ipset.Batch) {
		b.Add(v4.Name, "10.0.1.3,udp:53,10.0.1.3")
		b.Add(v6.Name, "fd00::9,sctp:1,fd00::/16")
	},
	func(b *ipset.Batch) { b.Add(v4.Name, "fd00::1,tcp:1,fd00::1") }, // fails: wrong family
	func(b *ipset.Batch) { b.Destroy(v4.Name); b.Destroy(v6.Name) },
}

// reexecInNetns runs this test again inside "unshare -rn".
func reexecInNetns(t *testing.T) {
	if _, err := exec.LookPath("ipset"); err != nil {
		t.Skip("no ipset tool")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare")
	}
	if err := exec.Command(unshare, "-rn", "true").Run(); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	cmd := exec.Command(unshare, "-rn", os.Args[0], "-test.run=^TestRunnerAgainstKernel$", "-test.v")
	cmd.Env = append(os.Environ(), inNetns+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a new network namespace: %v\n%s", err, out)
	}
}
