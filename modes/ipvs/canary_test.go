package ipvsmode_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestCheckCanary: the canary reports what someone else removed (true means
// intact, as the server expects), and the full sync it leads to puts it back.
func TestCheckCanary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(k *kernel)
		intact bool
	}{
		{"nothing changed", func(*kernel) {}, true},
		{"a cluster IP unbound from kube-ipvs0", func(k *kernel) {
			_ = k.nl.DelAddress(ipvsmode.DummyDevice, ip("172.30.0.10"))
		}, false},
		{"a foreign address bound to kube-ipvs0", func(k *kernel) {
			_ = k.nl.AddAddress(ipvsmode.DummyDevice, ip("172.30.9.9"))
		}, true},
		{"kube-ipvs0 deleted", func(k *kernel) { _ = k.nl.DeleteDummy(ipvsmode.DummyDevice) }, false},
		{"a virtual server deleted", func(k *kernel) {
			svcs, _ := k.ipvs.GetServices()
			_ = k.ipvs.DelService(svcs[0])
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
			b := newBackend(t, k, nil)
			pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
			web()(pb)
			snap, _ := pb.Snapshot(v1.IPv4Protocol)
			mustSync(t, b, snap, full)
			want := k.state()
			tc.tamper(k)
			if ok, err := b.CheckCanary(ctx); err != nil || ok != tc.intact {
				t.Fatalf("CheckCanary = %v, %v; want %v", ok, err, tc.intact)
			}
			if tc.intact {
				return
			}
			mustSync(t, b, snap, changes{}) // the server asks for a sync; the backend makes it full
			if got := k.state(); got != want {
				t.Errorf("not repaired:\n%s", diff(got, want))
			}
			if ok, err := b.CheckCanary(ctx); err != nil || !ok {
				t.Errorf("CheckCanary after the repair = %v, %v; want true", ok, err)
			}
		})
	}
}
