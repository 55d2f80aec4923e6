package packetflow

import (
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// Builder makes snapshots the way kproxy does at run time: Service and
// EndpointSlice objects go through the real proxy.Table's trackers.
type Builder struct {
	// Table is the table the objects go into; tests may feed it directly.
	Table    *proxy.Table
	node     string
	services map[types.NamespacedName]*v1.Service
}

// NewBuilder returns a builder for the node named node.
func NewBuilder(node string) *Builder {
	return &Builder{Table: proxy.NewTable(node), node: node, services: map[types.NamespacedName]*v1.Service{}}
}

// Node sets the node's zone and addresses.
func (b *Builder) Node(zone string, ips ...string) *Builder {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: b.node, Labels: map[string]string{}}}
	if zone != "" {
		n.Labels[v1.LabelTopologyZone] = zone
	}
	for _, ip := range ips {
		n.Status.Addresses = append(n.Status.Addresses, v1.NodeAddress{Type: v1.NodeInternalIP, Address: ip})
	}
	b.Table.Node.Update(n)
	return b
}

// Service adds or replaces a Service.
func (b *Builder) Service(svc *v1.Service) *Builder {
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	b.Table.Services.Update(b.services[name], svc)
	b.services[name] = svc
	return b
}

// DeleteService removes a Service.
func (b *Builder) DeleteService(ns, name string) *Builder {
	key := types.NamespacedName{Namespace: ns, Name: name}
	if svc := b.services[key]; svc != nil {
		b.Table.Services.Update(svc, nil)
		delete(b.services, key)
	}
	return b
}

// Slice adds or replaces an EndpointSlice.
func (b *Builder) Slice(s *discovery.EndpointSlice) *Builder {
	b.Table.Endpoints.Update(s, false)
	return b
}

// DeleteSlice removes an EndpointSlice.
func (b *Builder) DeleteSlice(s *discovery.EndpointSlice) *Builder {
	b.Table.Endpoints.Update(s, true)
	return b
}

// Snapshot applies what was fed so far and returns the family's snapshot with
// what changed since the previous call.
func (b *Builder) Snapshot(family v1.IPFamily) (*proxy.Snapshot, proxy.Changes) {
	applied := b.Table.Apply()
	return b.Table.Snapshot(family), proxy.Changes{Full: applied.NodeChanged, Services: applied.Services}
}
