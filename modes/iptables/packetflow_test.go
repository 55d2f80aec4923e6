package iptablesmode

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestPacketFlow programs the standard scenario into the fake and traces every
// case through it, for both families, with and without --masquerade-all.
func TestPacketFlow(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		for _, masqAll := range []bool{false, true} {
			s := packetflow.Standard(family, masqAll)
			name := string(family)
			if masqAll {
				name += "/masquerade-all"
			}
			t.Run(name, func(t *testing.T) {
				fake := newFake(family)
				b := newTestBackend(t, family, fake, s.Settings)
				mustSync(t, b, s.Snapshot, full)
				tr := iptablestest.NewTracer(fake, iptablestest.Node{LocalAddrs: s.NodeIPs})
				for _, c := range s.Cases {
					got := traceCase(t, tr, c)
					if want := c.Want(); !slices.Equal(got, want) {
						t.Errorf("%s: %s %s -> %s:%d: got [%s], want [%s]", c.Name, c.Protocol, c.Source, c.Dest, c.Port,
							packetflow.Format(got), packetflow.Format(want))
					}
				}
				if t.Failed() {
					t.Logf("rules:\n%s", fake.Dump())
				}
			})
		}
	}
}
