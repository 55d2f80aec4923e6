package endpoints

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// ByPort holds the merged endpoints of one service for one IP family, keyed by port.
type ByPort map[PortKey][]Endpoint

// ByFamily holds a service's merged endpoints for each IP family it has slices of.
type ByFamily map[v1.IPFamily]ByPort

// Merge merges every EndpointSlice of one service into one sorted, duplicate-free endpoint
// list per IP family and port. nodeName marks the endpoints that run on this node as Local.
// Addresses that do not parse or do not match their slice's address type, ports out of range,
// slices of unknown address types and FQDN slices are left out; each but FQDN slices is
// described in problems.
func Merge(slices []*discovery.EndpointSlice, nodeName string) (merged ByFamily, problems []string) {
	return merge(slices, nodeName, func(*discovery.EndpointSlice) bool { return true })
}

// merge is Merge reporting only the problems of the slices report accepts: a slice
// event must not report again what is wrong with the service's other slices.
func merge(slices []*discovery.EndpointSlice, nodeName string, report func(*discovery.EndpointSlice) bool) (merged ByFamily, problems []string) {
	merged = ByFamily{}
	for _, slice := range slices {
		family, ok := sliceFamily(slice.AddressType)
		if !ok { // FQDN slices have nothing a proxy can program; others are broken.
			if slice.AddressType != discovery.AddressTypeFQDN && report(slice) {
				problems = append(problems, fmt.Sprintf("slice %s: unknown address type %q", slice.Name, slice.AddressType))
			}
			continue
		}
		byPort := merged[family]
		if byPort == nil {
			byPort = ByPort{}
			merged[family] = byPort
		}
		found := mergeSlice(byPort, slice, family, nodeName, nil)
		if report(slice) {
			problems = append(problems, found...)
		}
	}
	for family, byPort := range merged {
		for key, eps := range byPort {
			byPort[key] = dedupe(eps)
		}
		if len(byPort) == 0 {
			delete(merged, family)
		}
	}
	return merged, problems
}

// sliceFamily maps a slice's address type to an IP family; FQDN has none.
func sliceFamily(t discovery.AddressType) (v1.IPFamily, bool) {
	switch t {
	case discovery.AddressTypeIPv4:
		return v1.IPv4Protocol, true
	case discovery.AddressTypeIPv6:
		return v1.IPv6Protocol, true
	}
	return "", false
}

// mergeSlice appends one slice's endpoints to byPort, one entry per port of the slice.
func mergeSlice(byPort ByPort, slice *discovery.EndpointSlice, family v1.IPFamily, nodeName string, problems []string) []string {
	for _, port := range slice.Ports {
		key, number, problem := slicePort(port)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("slice %s: %s", slice.Name, problem))
			continue
		}
		// Sized once: at 10,000 services the slack of append's doubling is
		// a visible share of the proxy's memory.
		byPort[key] = slices.Grow(byPort[key], len(slice.Endpoints))
		for i := range slice.Endpoints {
			ep, problem := sliceEndpoint(&slice.Endpoints[i], family, nodeName)
			if problem != "" {
				problems = append(problems, fmt.Sprintf("slice %s: %s", slice.Name, problem))
				continue
			}
			ep.Port = number
			byPort[key] = append(byPort[key], ep)
		}
	}
	return problems
}

// slicePort validates one slice port; upstream ignores ports without a number.
func slicePort(port discovery.EndpointPort) (PortKey, uint16, string) {
	key := PortKey{Protocol: v1.ProtocolTCP}
	if port.Name != nil {
		key.Name = *port.Name
	}
	if port.Protocol != nil {
		key.Protocol = *port.Protocol
	}
	switch key.Protocol {
	case v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP:
	default:
		return key, 0, fmt.Sprintf("port %q has unknown protocol %q", key.Name, key.Protocol)
	}
	if port.Port == nil {
		return key, 0, fmt.Sprintf("port %q has no number", key.Name)
	}
	if *port.Port < 1 || *port.Port > 65535 {
		return key, 0, fmt.Sprintf("port %q number %s is out of range", key.Name, portString(*port.Port))
	}
	return key, uint16(*port.Port), ""
}

// sliceEndpoint converts one slice endpoint (its first address, as upstream does).
func sliceEndpoint(se *discovery.Endpoint, family v1.IPFamily, nodeName string) (Endpoint, string) {
	if len(se.Addresses) == 0 {
		return Endpoint{}, "endpoint without addresses"
	}
	ip, err := netip.ParseAddr(se.Addresses[0])
	if err != nil || ip.Zone() != "" {
		return Endpoint{}, fmt.Sprintf("endpoint address %q is not an IP", se.Addresses[0])
	}
	ip = ip.Unmap()
	if ip.Is4() != (family == v1.IPv4Protocol) {
		return Endpoint{}, fmt.Sprintf("endpoint address %s is not %s", ip, family)
	}
	ep := Endpoint{
		IP:          ip,
		Ready:       se.Conditions.Ready == nil || *se.Conditions.Ready,
		Serving:     se.Conditions.Serving == nil || *se.Conditions.Serving,
		Terminating: se.Conditions.Terminating != nil && *se.Conditions.Terminating,
	}
	if se.NodeName != nil {
		ep.NodeName = *se.NodeName
		ep.Local = ep.NodeName != "" && ep.NodeName == nodeName
	}
	if se.Zone != nil {
		ep.Zone = *se.Zone
	}
	if se.Hints != nil && len(se.Hints.ForZones) > 0 {
		ep.ZoneHints = make([]string, len(se.Hints.ForZones))
		for i, z := range se.Hints.ForZones {
			ep.ZoneHints[i] = z.Name
		}
	}
	return ep, ""
}

// dedupe sorts endpoints by address and keeps one copy of each address, the one with the
// best conditions (an endpoint may sit in two slices while it moves between them).
func dedupe(eps []Endpoint) []Endpoint {
	slices.SortStableFunc(eps, func(a, b Endpoint) int {
		if c := a.AddrPort().Compare(b.AddrPort()); c != 0 {
			return c
		}
		return cmp.Compare(b.conditionsRank(), a.conditionsRank())
	})
	return slices.CompactFunc(eps, func(a, b Endpoint) bool { return a.AddrPort() == b.AddrPort() })
}

// Equal reports whether two merged endpoint sets are the same.
func (f ByFamily) Equal(g ByFamily) bool {
	if len(f) != len(g) {
		return false
	}
	for family, a := range f {
		b, ok := g[family]
		if !ok || len(a) != len(b) {
			return false
		}
		for key, eps := range a {
			other, ok := b[key]
			if !ok || !slices.EqualFunc(eps, other, Endpoint.equal) {
				return false
			}
		}
	}
	return true
}

// equal compares every field of two endpoints.
func (e Endpoint) equal(o Endpoint) bool {
	return e.IP == o.IP && e.Port == o.Port && e.Ready == o.Ready && e.Serving == o.Serving &&
		e.Terminating == o.Terminating && e.NodeName == o.NodeName && e.Zone == o.Zone &&
		e.Local == o.Local && slices.Equal(e.ZoneHints, o.ZoneHints)
}
