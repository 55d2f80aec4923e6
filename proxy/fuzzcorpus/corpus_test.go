package fuzzcorpus

import (
	"net/netip"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestSeedsCoverBadInputs checks that the seed corpus, which every `go test` plays,
// holds each kind of bad input the package promises somewhere.
func TestSeedsCoverBadInputs(t *testing.T) {
	seen := map[string]bool{}
	for _, seed := range Seeds() {
		c := census{seen: seen, labels: map[types.NamespacedName]string{}, owners: map[string]string{}}
		for _, s := range Generate(seed) {
			c.step(s)
		}
	}
	for _, want := range []string{
		"unparsable IP", "zoned IP", "IPv4-mapped IP", "wrong-family endpoint", "port 0", "negative port",
		"port above 65535", "unknown protocol", "SCTP", "huge name", "huge label value", "duplicate endpoint in a slice",
		"duplicate endpoint across slices", "slice without label", "FQDN slice", "thousands of service ports",
		"thousands of slice ports", "nil condition", "nil port field", "ExternalName", "headless",
		"two cluster IPs of one family", "bad source range", "slice changes service", "node change",
	} {
		if !seen[want] {
			t.Errorf("no seed has %s", want)
		}
	}
}

// census records the kinds of bad input a program holds.
type census struct {
	seen   map[string]bool
	labels map[types.NamespacedName]string // slice → its service label
	owners map[string]string               // "ns/label/address" → slice name
}

func (c *census) step(s Step) {
	switch s.Kind {
	case SetService:
		c.service(s.Service)
	case SetSlice:
		c.slice(s.Slice)
	case SetNode:
		c.seen["node change"] = true
	}
}

func (c *census) service(svc *v1.Service) {
	c.names(svc.Namespace, svc.Name)
	c.ips(append(append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...), svc.Spec.ExternalIPs...)...)
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		c.ips(ing.IP)
	}
	c.mark(svc.Spec.Type == v1.ServiceTypeExternalName, "ExternalName")
	c.mark(svc.Spec.ClusterIP == v1.ClusterIPNone, "headless")
	if ips := svc.Spec.ClusterIPs; len(ips) == 2 {
		a, errA := netip.ParseAddr(ips[0])
		b, errB := netip.ParseAddr(ips[1])
		c.mark(errA == nil && errB == nil && a.Is4() == b.Is4(), "two cluster IPs of one family")
	}
	for _, r := range svc.Spec.LoadBalancerSourceRanges {
		_, err := netip.ParsePrefix(r)
		c.mark(err != nil, "bad source range")
	}
	c.mark(len(svc.Spec.Ports) >= 1000, "thousands of service ports")
	for _, p := range svc.Spec.Ports {
		c.names(p.Name)
		c.port(p.Port, p.Protocol)
	}
}

func (c *census) slice(sl *discovery.EndpointSlice) {
	c.names(sl.Namespace, sl.Name)
	for _, v := range sl.Labels {
		c.mark(len(v) > 63, "huge label value")
	}
	label, labelled := sl.Labels[discovery.LabelServiceName]
	c.mark(!labelled, "slice without label")
	c.mark(sl.AddressType == discovery.AddressTypeFQDN, "FQDN slice")
	key := types.NamespacedName{Namespace: sl.Namespace, Name: sl.Name}
	if old, ok := c.labels[key]; ok && old != label {
		c.seen["slice changes service"] = true
	}
	c.labels[key] = label
	c.mark(len(sl.Ports) >= 1000, "thousands of slice ports")
	for _, p := range sl.Ports {
		c.mark(p.Name == nil || p.Port == nil || p.Protocol == nil, "nil port field")
		if p.Port != nil && p.Protocol != nil {
			c.port(*p.Port, *p.Protocol)
		}
	}
	inSlice := map[string]bool{}
	for _, ep := range sl.Endpoints {
		cond := ep.Conditions
		c.mark(cond.Ready == nil || cond.Serving == nil || cond.Terminating == nil, "nil condition")
		c.ips(ep.Addresses...)
		if len(ep.Addresses) == 0 {
			continue
		}
		addr := ep.Addresses[0]
		c.mark(inSlice[addr], "duplicate endpoint in a slice")
		inSlice[addr] = true
		owner := sl.Namespace + "/" + label + "/" + addr
		if other, ok := c.owners[owner]; ok && other != sl.Name && labelled {
			c.seen["duplicate endpoint across slices"] = true
		}
		c.owners[owner] = sl.Name
		if ip, err := netip.ParseAddr(addr); err == nil {
			c.mark((sl.AddressType == discovery.AddressTypeIPv4) != ip.Unmap().Is4() &&
				sl.AddressType != discovery.AddressTypeFQDN, "wrong-family endpoint")
		}
	}
}

func (c *census) names(names ...string) {
	for _, n := range names {
		c.mark(len(n) > 63, "huge name")
	}
}

func (c *census) ips(ips ...string) {
	for _, s := range ips {
		if s == "" || s == v1.ClusterIPNone {
			continue
		}
		c.mark(strings.Contains(s, "%"), "zoned IP")
		c.mark(strings.HasPrefix(s, "::ffff:"), "IPv4-mapped IP")
		_, err := netip.ParseAddr(strings.TrimSpace(s))
		c.mark(err != nil, "unparsable IP")
	}
}

func (c *census) port(p int32, proto v1.Protocol) {
	c.mark(p == 0, "port 0")
	c.mark(p < 0, "negative port")
	c.mark(p > 65535, "port above 65535")
	c.mark(proto == v1.ProtocolSCTP, "SCTP")
	c.mark(proto != "" && proto != v1.ProtocolTCP && proto != v1.ProtocolUDP && proto != v1.ProtocolSCTP, "unknown protocol")
}

func (c *census) mark(cond bool, what string) {
	if cond {
		c.seen[what] = true
	}
}
