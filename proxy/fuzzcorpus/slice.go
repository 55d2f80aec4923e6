package fuzzcorpus

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kproxy/kproxy/endpoints"
)

// slice builds an EndpointSlice: mostly one matching a service made before (same
// namespace, its name as label, its ports), else one of anything.
func (g *gen) slice() *discovery.EndpointSlice {
	if len(g.services) > 0 && g.src.Intn(3) != 0 {
		return g.sliceFor(g.services[g.src.Intn(len(g.services))])
	}
	s := g.src
	sl := &discovery.EndpointSlice{ObjectMeta: g.meta("slice", 6)}
	switch s.Intn(10) {
	case 0: // no service label
	case 1:
		sl.Labels = map[string]string{discovery.LabelServiceName: g.odd(64, "", strings.Repeat("l", 4096), "svc0 ")}
	default:
		sl.Labels = map[string]string{discovery.LabelServiceName: g.name("svc", 4)}
	}
	if s.OneIn(4) {
		sl.Annotations = map[string]string{endpoints.TriggerTimeAnnotation: g.odd(32, time.Unix(int64(s.Intn(1<<16)), 0).UTC().Format(time.RFC3339Nano), "yesterday")}
	}
	f := family(s.Intn(2))
	switch s.Intn(12) {
	case 0:
		sl.AddressType = discovery.AddressTypeFQDN
	case 1:
		sl.AddressType = discovery.AddressType(g.odd(8, "", "IPv5", "ipv4"))
	default:
		sl.AddressType = []discovery.AddressType{discovery.AddressTypeIPv4, discovery.AddressTypeIPv6}[f]
	}
	g.slicePorts(sl)
	g.sliceEndpoints(sl, f)
	return sl
}

// sliceFor builds a slice of svc, of the family of one of its cluster IPs, with
// its ports (targets of any number) and some bad ones.
func (g *gen) sliceFor(svc *v1.Service) *discovery.EndpointSlice {
	s := g.src
	g.rv++
	sl := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: g.name("slice", 6), ResourceVersion: strconv.Itoa(g.rv),
			Labels: map[string]string{discovery.LabelServiceName: svc.Name}},
	}
	f := family(s.Intn(2))
	if len(svc.Spec.ClusterIPs) > 0 {
		if ip, err := netip.ParseAddr(svc.Spec.ClusterIPs[s.Intn(len(svc.Spec.ClusterIPs))]); err == nil && ip.Is6() {
			f = v6
		} else if err == nil {
			f = v4
		}
	}
	sl.AddressType = []discovery.AddressType{discovery.AddressTypeIPv4, discovery.AddressTypeIPv6}[f]
	for i, p := range svc.Spec.Ports {
		if i >= 8 && !s.OneIn(64) {
			continue // keep slices of huge services small
		}
		target := int32(8000 + i)
		if s.OneIn(8) {
			target = g.port()
		}
		sl.Ports = append(sl.Ports, discovery.EndpointPort{Name: ptr(p.Name), Protocol: ptr(p.Protocol), Port: ptr(target)})
	}
	if s.OneIn(4) {
		g.slicePorts(sl)
	}
	g.sliceEndpoints(sl, f)
	return sl
}

// slicePorts adds ports, any field of which may be nil; rarely thousands.
func (g *gen) slicePorts(sl *discovery.EndpointSlice) {
	s := g.src
	n := s.Intn(4)
	if s.OneIn(60) {
		n = 1000 + s.Intn(2000)
	}
	for i := range n {
		var p discovery.EndpointPort
		if n > 100 { // thousands: the names a service with thousands of ports has
			p.Name, p.Port, p.Protocol = ptr("p"+strconv.Itoa(i)), ptr(int32(8000+i)), ptr(v1.ProtocolTCP)
			sl.Ports = append(sl.Ports, p)
			continue
		}
		if !s.OneIn(8) {
			p.Name = ptr(g.name("p", 3))
		}
		if !s.OneIn(8) {
			p.Port = ptr(g.port())
		}
		if !s.OneIn(4) {
			p.Protocol = ptr(g.protocol())
		}
		sl.Ports = append(sl.Ports, p)
	}
}

// sliceEndpoints adds endpoints, with duplicates, missing addresses and nil
// conditions among them.
func (g *gen) sliceEndpoints(sl *discovery.EndpointSlice, f family) {
	s := g.src
	for range s.Intn(7) {
		if len(sl.Endpoints) > 0 && s.OneIn(5) { // a duplicate, maybe with other conditions
			ep := sl.Endpoints[s.Intn(len(sl.Endpoints))]
			ep.Conditions = g.conditions()
			sl.Endpoints = append(sl.Endpoints, ep)
			continue
		}
		var ep discovery.Endpoint
		switch s.Intn(10) {
		case 0:
		case 1:
			ep.Addresses = []string{}
		default:
			for range 1 + s.Intn(2) {
				ep.Addresses = append(ep.Addresses, g.ip(f))
			}
		}
		ep.Conditions = g.conditions()
		if s.Intn(4) != 0 {
			ep.NodeName = ptr(Pick(s, "node-a", "node-b", "node-b", ""))
		}
		if s.OneIn(3) {
			ep.Zone = ptr(Pick(s, "zone-a", "zone-b", ""))
		}
		switch s.Intn(6) {
		case 0:
			ep.Hints = &discovery.EndpointHints{}
		case 1:
			ep.Hints = &discovery.EndpointHints{ForZones: []discovery.ForZone{{Name: Pick(s, "zone-a", "zone-b", "")}}}
		}
		sl.Endpoints = append(sl.Endpoints, ep)
	}
}

// conditions returns endpoint conditions, each nil, true or false.
func (g *gen) conditions() discovery.EndpointConditions {
	b := func() *bool {
		switch g.src.Intn(4) {
		case 0:
			return nil
		case 1:
			return ptr(false)
		}
		return ptr(true)
	}
	return discovery.EndpointConditions{Ready: b(), Serving: b(), Terminating: b()}
}
