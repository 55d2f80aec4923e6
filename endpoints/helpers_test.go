package endpoints

import (
	"net/netip"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sliceOpt changes a test slice.
type sliceOpt func(*discovery.EndpointSlice)

// testSlice builds a slice of service "ns/svc" with one TCP port "http" 8080.
func testSlice(name string, family discovery.AddressType, opts ...sliceOpt) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: name,
			Labels: map[string]string{discovery.LabelServiceName: "svc"},
		},
		AddressType: family,
		Ports:       []discovery.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080)), Protocol: ptr(v1.ProtocolTCP)}},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// withEndpoint adds an endpoint; cond is a string of flags: r(eady) s(erving) t(erminating).
func withEndpoint(addr, node, cond string, zoneHints ...string) sliceOpt {
	return func(s *discovery.EndpointSlice) {
		has := func(c byte) *bool {
			for i := range len(cond) {
				if cond[i] == c {
					return ptr(true)
				}
			}
			return ptr(false)
		}
		ep := discovery.Endpoint{
			Addresses:  []string{addr},
			Conditions: discovery.EndpointConditions{Ready: has('r'), Serving: has('s'), Terminating: has('t')},
		}
		if node != "" {
			ep.NodeName = ptr(node)
		}
		if len(zoneHints) > 0 {
			ep.Hints = &discovery.EndpointHints{}
			for _, z := range zoneHints {
				ep.Hints.ForZones = append(ep.Hints.ForZones, discovery.ForZone{Name: z})
			}
		}
		s.Endpoints = append(s.Endpoints, ep)
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// ep builds an endpoint on port 8080 with the given flags: r s t l(ocal).
func ep(addr, flags string, zoneHints ...string) Endpoint {
	e := Endpoint{IP: netip.MustParseAddr(addr), Port: 8080, ZoneHints: zoneHints}
	for _, f := range flags {
		switch f {
		case 'r':
			e.Ready = true
		case 's':
			e.Serving = true
		case 't':
			e.Terminating = true
		case 'l':
			e.Local = true
		}
	}
	return e
}

// addrs returns the endpoints' addresses as strings.
func addrs(eps []Endpoint) []string {
	out := []string{}
	for _, e := range eps {
		out = append(out, e.String())
	}
	return out
}
