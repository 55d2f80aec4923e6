package ipvsmode_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/ipvs"
	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
)

func TestSetupErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		prep func(k *kernel, o *ipvsmode.Options)
		want string
	}{
		{"unknown scheduler", func(_ *kernel, o *ipvsmode.Options) { o.Scheduler = "magic" }, `unknown scheduler "magic"`},
		{"scheduler missing from the kernel", func(k *kernel, o *ipvsmode.Options) {
			o.Scheduler = "lblcr"
			k.ipvs.SetSchedulers("rr", "wrr", "sh")
		}, "no module ip_vs_lblcr"},
		{"old ipset", func(k *kernel, _ *ipvsmode.Options) { k.sets.SetVersion("5.4") }, "older than the required 6.0"},
		{"ip_vs not loaded", func(k *kernel, _ *ipvsmode.Options) {
			_ = os.RemoveAll(filepath.Join(string(k.sysctl), "net/ipv4/vs"))
		}, "is the ip_vs module loaded?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
			opts := k.options()
			tc.prep(k, &opts)
			b, err := ipvsmode.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			err = b.Setup(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Setup = %v, want an error containing %q", err, tc.want)
			}
			if k.ipvs.Len() != 0 {
				t.Errorf("Setup left virtual servers:\n%s", k.ipvs.Dump())
			}
		})
	}
}

func TestSetupProbesSchedulerOnce(t *testing.T) {
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	newBackend(t, k, func(o *ipvsmode.Options) { o.Scheduler = "sh" })
	if ops := k.ipvs.Ops(); ops.NewService != 1 || ops.DelService != 1 || k.ipvs.Len() != 0 {
		t.Errorf("probe: %+v, %d virtual servers left", ops, k.ipvs.Len())
	}
	// With a virtual server using the scheduler, nothing is created.
	_ = k.ipvs.NewService(&ipvs.Service{Address: ip("172.30.0.1").AsSlice(), Protocol: 6, Port: 80, SchedName: "sh",
		AddressFamily: 2, Netmask: 0xffffffff})
	k.ipvs.ResetOps()
	newBackend(t, k, func(o *ipvsmode.Options) { o.Scheduler = "sh" })
	if ops := k.ipvs.Ops(); ops.NewService != 0 {
		t.Errorf("probed although a virtual server uses the scheduler: %+v", ops)
	}
}

func TestSetupSysctls(t *testing.T) {
	for _, tc := range []struct {
		name      string
		release   string
		strictARP bool
		want      map[string]string // "" means not written
	}{
		{"recent kernel", "6.1.0-18-amd64", false, map[string]string{
			"net/ipv4/vs/conntrack": "1", "net/ipv4/vs/expire_nodest_conn": "1", "net/ipv4/vs/expire_quiescent_template": "1",
			"net/ipv4/ip_forward": "1", "net/ipv4/vs/conn_reuse_mode": "", "net/ipv4/conf/all/arp_ignore": ""}},
		{"kernel needing conn_reuse_mode 0", "5.4.0-150-generic", false, map[string]string{"net/ipv4/vs/conn_reuse_mode": "0"}},
		{"strict ARP", "6.1.0", true, map[string]string{"net/ipv4/conf/all/arp_ignore": "1", "net/ipv4/conf/all/arp_announce": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
			if err := k.sysctl.Set("kernel/osrelease", tc.release); err != nil {
				t.Fatal(err)
			}
			newBackend(t, k, func(o *ipvsmode.Options) { o.StrictARP = tc.strictARP })
			for name, want := range tc.want {
				got, _ := k.sysctl.Get(name)
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestSetupTimeouts(t *testing.T) {
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	newBackend(t, k, func(o *ipvsmode.Options) { o.TCPTimeout, o.UDPTimeout = time.Hour, 30*time.Second })
	if c := k.ipvs.Config(); c.TimeoutTCP != time.Hour || c.TimeoutUDP != 30*time.Second || c.TimeoutTCPFin != 0 {
		t.Errorf("timeouts = %+v", c)
	}
	k2 := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	newBackend(t, k2, nil)
	if n := k2.ipvs.Ops().SetConfig; n != 0 {
		t.Errorf("timeouts set %d times without any given", n)
	}
}

func TestNewErrors(t *testing.T) {
	bit := 32
	for _, tc := range []struct {
		name string
		edit func(o *ipvsmode.Options)
		want string
	}{
		{"no family", func(o *ipvsmode.Options) { o.Family = "" }, "unknown IP family"},
		{"no handle", func(o *ipvsmode.Options) { o.IPVS = nil }, "no IPVS handle"},
		{"no ipset", func(o *ipvsmode.Options) { o.IPSet = nil }, "no ipset"},
		{"iptables of the other family", func(o *ipvsmode.Options) { o.Family = v1.IPv6Protocol }, "IPv4 iptables runner"},
		{"masquerade bit", func(o *ipvsmode.Options) { o.MasqueradeBit = &bit }, "masquerade bit 32"},
	} {
		k := newKernel(t, v1.IPv4Protocol)
		opts := k.options()
		tc.edit(&opts)
		if _, err := ipvsmode.New(opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want %q", tc.name, err, tc.want)
		}
	}
}
