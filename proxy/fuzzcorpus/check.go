package fuzzcorpus

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kproxy/kproxy/endpoints"
	"github.com/kproxy/kproxy/proxy"
)

// CheckSnapshot returns what in snap no backend could program, nil when nothing:
// every entry must be named with DNS labels (names end up in rule comments), have a
// cluster IP, external and load-balancer IPs, source ranges and endpoints of the
// snapshot's family, a port in 1-65535 and a known protocol, and select only
// endpoints it holds; Sorted must list every entry once, in order.
func CheckSnapshot(snap *proxy.Snapshot) error {
	var errs []error
	for name, svc := range snap.Services {
		if err := checkService(snap.Family, name, svc); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	order := snap.Sorted()
	if len(order) != len(snap.Services) || !slices.IsSortedFunc(order, proxy.ServicePortName.Compare) {
		errs = append(errs, fmt.Errorf("Sorted() lists %d names (sorted: %v) for %d services",
			len(order), slices.IsSortedFunc(order, proxy.ServicePortName.Compare), len(snap.Services)))
	}
	for _, name := range order {
		if snap.Services[name] == nil {
			errs = append(errs, fmt.Errorf("Sorted() lists %s, which the snapshot lacks", name))
		}
	}
	return errors.Join(errs...)
}

// checkService checks one entry.
func checkService(f v1.IPFamily, name proxy.ServicePortName, svc *proxy.Service) error {
	if svc == nil {
		return errors.New("nil entry")
	}
	if svc.Name != name {
		return fmt.Errorf("entry is named %s", svc.Name)
	}
	parts := []string{name.Namespace, name.Name}
	if name.Port != "" {
		parts = append(parts, name.Port)
	}
	for _, part := range parts {
		if errs := validation.IsDNS1123Label(part); len(errs) > 0 {
			return fmt.Errorf("name %q: %v", part, errs)
		}
	}
	switch svc.Protocol() {
	case v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP:
	default:
		return fmt.Errorf("protocol %q", svc.Protocol())
	}
	if svc.Port == 0 {
		return errors.New("port 0")
	}
	if err := checkAddrs(f, "cluster IP", svc.ClusterIP); err != nil {
		return err
	}
	if err := checkAddrs(f, "external IP", svc.ExternalIPs...); err != nil {
		return err
	}
	if err := checkAddrs(f, "load-balancer IP", svc.LoadBalancerIPs...); err != nil {
		return err
	}
	for _, p := range svc.SourceRanges {
		if err := checkAddrs(f, "source range", p.Addr()); err != nil || p != p.Masked() {
			return fmt.Errorf("source range %s (%v)", p, err)
		}
	}
	return checkEndpoints(f, svc)
}

// checkAddrs checks that every address is a valid, unzoned, unmapped one of f.
func checkAddrs(f v1.IPFamily, what string, ips ...netip.Addr) error {
	for _, ip := range ips {
		if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() || ip.Is4() != (f == v1.IPv4Protocol) {
			return fmt.Errorf("%s %v is not a plain %s address", what, ip, f)
		}
	}
	return nil
}

// checkEndpoints checks the merged endpoints and that the selections only hold some
// of them.
func checkEndpoints(f v1.IPFamily, svc *proxy.Service) error {
	for i, ep := range svc.All {
		if err := checkAddrs(f, "endpoint", ep.IP); err != nil {
			return err
		}
		if ep.Port == 0 {
			return fmt.Errorf("endpoint %s has port 0", ep)
		}
		if i > 0 && svc.All[i-1].AddrPort().Compare(ep.AddrPort()) >= 0 {
			return fmt.Errorf("endpoints not sorted or duplicated at %s", ep)
		}
	}
	for _, sel := range [][]endpoints.Endpoint{svc.Endpoints.Cluster, svc.Endpoints.Local} {
		for _, ep := range sel {
			if !slices.ContainsFunc(svc.All, func(a endpoints.Endpoint) bool { return reflect.DeepEqual(a, ep) }) {
				return fmt.Errorf("selected endpoint %s is not among the merged ones", ep)
			}
		}
	}
	return nil
}

// CheckAnchor returns an error unless snap holds every port of the anchor service
// with its cluster IP, and exactly its endpoints, all selected.
func CheckAnchor(snap *proxy.Snapshot) error {
	for i, p := range anchorPorts {
		want := AnchorPorts(snap.Family)[i]
		name := proxy.ServicePortName{NamespacedName: anchorName, Port: p.name, Protocol: p.protocol}
		svc := snap.Services[name]
		if svc == nil {
			return fmt.Errorf("anchor %s missing from the %s snapshot", name, snap.Family)
		}
		if svc.ClusterIP != want.ClusterIP || svc.Port != want.Port || svc.NodePort != uint16(p.nodePort) {
			return fmt.Errorf("anchor %s is %s:%d node port %d", name, svc.ClusterIP, svc.Port, svc.NodePort)
		}
		if got := addrPorts(svc.All); !slices.Equal(got, want.Endpoints) {
			return fmt.Errorf("anchor %s has endpoints %v, want %v", name, got, want.Endpoints)
		}
		if got := addrPorts(svc.Endpoints.Cluster); !slices.Equal(got, want.Endpoints) {
			return fmt.Errorf("anchor %s selected %v, want %v", name, got, want.Endpoints)
		}
	}
	return nil
}

// addrPorts returns the endpoints' addresses.
func addrPorts(eps []endpoints.Endpoint) []netip.AddrPort {
	var out []netip.AddrPort
	for _, ep := range eps {
		out = append(out, ep.AddrPort())
	}
	return out
}

// Diff compares two snapshots of one family entry by entry; "" when they hold the
// same entries.
func Diff(got, want *proxy.Snapshot) string {
	var out string
	for _, name := range want.Sorted() {
		g, w := got.Services[name], want.Services[name]
		switch {
		case g == nil:
			out += fmt.Sprintf("- %s %+v\n", name, *w)
		case !reflect.DeepEqual(g, w):
			out += fmt.Sprintf("~ %s\n  got  %+v\n  want %+v\n", name, *g, *w)
		}
	}
	for _, name := range got.Sorted() {
		if want.Services[name] == nil {
			out += fmt.Sprintf("+ %s %+v\n", name, *got.Services[name])
		}
	}
	if !reflect.DeepEqual(got.Node, want.Node) {
		out += fmt.Sprintf("node %+v, want %+v\n", got.Node, want.Node)
	}
	return out
}
