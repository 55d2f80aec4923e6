package ipsettest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kproxy/kproxy/proxy/ipset"
)

var ctx = context.Background()

var (
	clusterIP = ipset.Set{Name: "KUBE-CLUSTER-IP", Type: ipset.HashIPPort, Family: ipset.Inet}
	nodePorts = ipset.Set{Name: "KUBE-NODE-PORT-TCP", Type: ipset.BitmapPort}
)

func apply(t *testing.T, f *Fake, build func(b *ipset.Batch)) error {
	t.Helper()
	var b ipset.Batch
	build(&b)
	return f.Apply(ctx, &b)
}

func TestApplyExistSemantics(t *testing.T) {
	f := New()
	err := apply(t, f, func(b *ipset.Batch) {
		b.Create(clusterIP)
		b.Create(clusterIP) // identical: fine
		b.Add(clusterIP.Name, "10.0.0.1,tcp:80")
		b.Add(clusterIP.Name, "10.0.0.1,80") // the same entry, written otherwise
		b.Del(clusterIP.Name, "10.0.0.2,tcp:80")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Members(clusterIP.Name); !slices.Equal(got, []string{"10.0.0.1,tcp:80"}) {
		t.Errorf("members = %v", got)
	}
}

// TestApplyIsAllOrNothing: a failing line leaves the state as before the batch.
func TestApplyIsAllOrNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(b *ipset.Batch)
		want  error
	}{
		{"add to a missing set", func(b *ipset.Batch) { b.Add("NOPE", "1") }, ErrNoSet},
		{"create with other options", func(b *ipset.Batch) {
			b.Create(ipset.Set{Name: clusterIP.Name, Type: ipset.HashIP, Family: ipset.Inet})
		}, ErrSetExist},
		{"destroy a missing set", func(b *ipset.Batch) { b.Destroy("NOPE") }, ErrNoSet},
		{"entry of the wrong family", func(b *ipset.Batch) { b.Add(clusterIP.Name, "fd00::1,tcp:80") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New()
			if err := apply(t, f, func(b *ipset.Batch) { b.Create(clusterIP); b.Add(clusterIP.Name, "10.0.0.1,tcp:80") }); err != nil {
				t.Fatal(err)
			}
			before := f.Dump()
			err := apply(t, f, func(b *ipset.Batch) {
				b.Add(clusterIP.Name, "10.0.0.9,tcp:80")
				b.Create(nodePorts)
				b.Flush(clusterIP.Name)
				tc.build(b)
			})
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Apply = %v, want %v", err, tc.want)
			}
			if after := f.Dump(); after != before {
				t.Errorf("state changed by a failed batch:\n%s\nwant:\n%s", after, before)
			}
		})
	}
}

func TestDestroyInUse(t *testing.T) {
	f := New()
	f.SetInUse(func(name string) bool { return name == nodePorts.Name })
	if err := apply(t, f, func(b *ipset.Batch) { b.Create(nodePorts); b.Create(clusterIP) }); err != nil {
		t.Fatal(err)
	}
	if err := apply(t, f, func(b *ipset.Batch) { b.Destroy(nodePorts.Name) }); !errors.Is(err, ErrInUse) {
		t.Errorf("destroying a set in use: %v", err)
	}
	if err := apply(t, f, func(b *ipset.Batch) { b.Destroy(clusterIP.Name) }); err != nil {
		t.Errorf("destroying a free set: %v", err)
	}
	if got := f.Sets(); !slices.Equal(got, []string{nodePorts.Name}) {
		t.Errorf("sets = %v", got)
	}
}

func TestDumpAndList(t *testing.T) {
	f := New()
	if err := apply(t, f, func(b *ipset.Batch) {
		b.Create(nodePorts)
		b.Create(clusterIP)
		b.Add(nodePorts.Name, "30080")
		b.Add(clusterIP.Name, "10.0.0.2,udp:53")
		b.Add(clusterIP.Name, "10.0.0.1,tcp:80")
	}); err != nil {
		t.Fatal(err)
	}
	want := `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.0.0.1,tcp:80
add KUBE-CLUSTER-IP 10.0.0.2,udp:53
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30080
`
	if got := f.Dump(); got != want {
		t.Errorf("Dump:\n%s\nwant:\n%s", got, want)
	}
	// The dump is "ipset save" output: parsing it gives what List gives.
	parsed, err := ipset.ParseSave([]byte(f.Dump()))
	listed, _ := f.List(ctx)
	if err != nil || !slices.EqualFunc(parsed, listed, func(a, b ipset.Contents) bool {
		return a.Set == b.Set && slices.Equal(a.Entries, b.Entries)
	}) {
		t.Errorf("ParseSave(Dump) = %+v, %v; List = %+v", parsed, err, listed)
	}
}

func TestIPSetForTracer(t *testing.T) {
	f := New()
	if err := apply(t, f, func(b *ipset.Batch) { b.Create(nodePorts); b.Add(nodePorts.Name, "30080") }); err != nil {
		t.Fatal(err)
	}
	s, ok := f.IPSet(nodePorts.Name)
	if !ok || s.Type != "bitmap:port" || !slices.Equal(s.Members, []string{"tcp:30080", "udp:30080", "sctp:30080"}) {
		t.Errorf("IPSet = %+v, %v", s, ok)
	}
	if _, ok := f.IPSet("NOPE"); ok {
		t.Error("IPSet of a missing set reported it")
	}
}

func TestFailNext(t *testing.T) {
	f := New()
	f.FailNext(1)
	if err := apply(t, f, func(b *ipset.Batch) { b.Create(nodePorts) }); !errors.Is(err, ErrInjected) {
		t.Errorf("first Apply = %v", err)
	}
	if err := apply(t, f, func(b *ipset.Batch) { b.Create(nodePorts) }); err != nil || f.Applies() != 1 {
		t.Errorf("second Apply = %v, applies %d", err, f.Applies())
	}
}
