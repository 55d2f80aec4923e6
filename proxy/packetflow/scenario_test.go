package packetflow

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/endpoints"
)

// TestStandardIsConsistent checks that the standard scenario builds in both
// families and that every endpoint a case expects is an endpoint of the snapshot.
func TestStandardIsConsistent(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		s := Standard(family, false)
		if got := len(s.Snapshot.Services); got != 12 {
			t.Errorf("%s: %d service ports, want 12", family, got)
		}
		for _, c := range s.Cases {
			if c.Source.Is4() != (family == v1.IPv4Protocol) || c.Dest.Is4() != c.Source.Is4() {
				t.Errorf("%s: case %q mixes families", family, c.Name)
			}
			for _, ep := range c.Endpoints {
				found := false
				for _, svc := range s.Snapshot.Services {
					found = found || slices.ContainsFunc(svc.All, func(e endpoints.Endpoint) bool { return e.AddrPort() == ep })
				}
				if !found {
					t.Errorf("%s: case %q expects %s, which no service has", family, c.Name, ep)
				}
			}
		}
	}
}
