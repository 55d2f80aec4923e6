package ipvsmode_test

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// plainNetlink hides the fake's AddressWatcher: a seam without address
// notifications.
type plainNetlink struct{ ipvsmode.Netlink }

// TestNodeAddressChangeReachesPartialSync: a node address that appears between
// two partial syncs gets its node-port virtual server on the next one, whether the
// seam reports address changes or the backend has to list them every time; a
// partial sync with nothing to do lists no address when the seam reports changes.
func TestNodeAddressChangeReachesPartialSync(t *testing.T) {
	for _, tc := range []struct {
		name      string
		plain     bool
		idleCalls int // netlink calls of a partial sync that changes nothing
	}{
		{"seam reports address changes", false, 0},
		{"seam without notifications", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
			b := newBackend(t, k, func(o *ipvsmode.Options) {
				if tc.plain {
					o.Netlink = plainNetlink{o.Netlink}
				}
			})
			pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
			web(nodePort)(pb)
			snap, _ := pb.Snapshot(v1.IPv4Protocol)
			mustSync(t, b, snap, full)

			calls := k.nl.Calls()
			mustSync(t, b, snap, changes{})
			if n := k.nl.Calls() - calls; n != tc.idleCalls {
				t.Errorf("a partial sync without changes made %d netlink calls, want %d", n, tc.idleCalls)
			}

			k.nl.AddLink("eth1", ip("192.168.5.10"))
			mustSync(t, b, snap, changes{})
			if dump := k.ipvs.Dump(); !strings.Contains(dump, "TCP  192.168.5.10:30080 rr") {
				t.Errorf("no node-port virtual server on the new address:\n%s", dump)
			}
		})
	}
}
