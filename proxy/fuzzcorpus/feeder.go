package fuzzcorpus

import (
	"cmp"
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// NodeName is the node programs run on; endpoints on "node-b" are remote.
const NodeName = "node-a"

// NodeIPs returns the addresses kproxy's Node starts with, one per family.
func NodeIPs() []netip.Addr {
	return []netip.Addr{netip.MustParseAddr("192.168.0.10"), netip.MustParseAddr("fd00:192::10")}
}

// Feeder plays programs into a proxy.Table the way kproxy's watcher does: a Service
// update carries the previous object, a deletion the last one seen, an EndpointSlice
// event the slice as it now is.
type Feeder struct {
	// Table receives the events.
	Table    *proxy.Table
	node     *v1.Node
	services map[types.NamespacedName]*v1.Service
	slices   map[types.NamespacedName]*discovery.EndpointSlice
}

// NewFeeder returns a feeder over a new table for NodeName, whose Node is NewNode().
func NewFeeder() *Feeder {
	f := &Feeder{
		Table:    proxy.NewTable(NodeName),
		node:     NewNode(),
		services: map[types.NamespacedName]*v1.Service{},
		slices:   map[types.NamespacedName]*discovery.EndpointSlice{},
	}
	f.Table.Node.Update(f.node)
	return f
}

// NewNode returns kproxy's Node as programs start with it: addresses NodeIPs(), zone
// "zone-a".
func NewNode() *v1.Node {
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: NodeName, Labels: map[string]string{v1.LabelTopologyZone: "zone-a"}}}
	for _, ip := range NodeIPs() {
		node.Status.Addresses = append(node.Status.Addresses, v1.NodeAddress{Type: v1.NodeInternalIP, Address: ip.String()})
	}
	return node
}

// Feed hands one event to the table's trackers and returns the problems they
// reported; a Sync step does nothing here (the caller applies and syncs). Deleting
// an object the feeder never saw does nothing, as no informer would report it.
func (f *Feeder) Feed(s Step) []string {
	switch s.Kind {
	case SetService:
		key := keyOf(&s.Service.ObjectMeta)
		_, problems := f.Table.Services.Update(f.services[key], s.Service)
		f.services[key] = s.Service
		return problems
	case DeleteService:
		key := keyOf(&s.Service.ObjectMeta)
		if old := f.services[key]; old != nil {
			f.Table.Services.Update(old, nil)
			delete(f.services, key)
		}
	case SetSlice:
		f.slices[keyOf(&s.Slice.ObjectMeta)] = s.Slice
		_, _, _, problems := f.Table.Endpoints.Update(s.Slice, false)
		return problems
	case DeleteSlice:
		key := keyOf(&s.Slice.ObjectMeta)
		if old := f.slices[key]; old != nil {
			f.Table.Endpoints.Update(old, true)
			delete(f.slices, key)
		}
	case SetNode:
		f.node = s.Node
		f.Table.Node.Update(s.Node)
	}
	return nil
}

// Objects returns the objects that exist now, as a program that creates them.
func (f *Feeder) Objects() []Step {
	steps := []Step{{Kind: SetNode, Node: f.node}}
	for _, key := range sortedKeys(f.services) {
		steps = append(steps, Step{Kind: SetService, Service: f.services[key]})
	}
	for _, key := range sortedKeys(f.slices) {
		steps = append(steps, Step{Kind: SetSlice, Slice: f.slices[key]})
	}
	return steps
}

// Fresh returns a new feeder, with a new table, fed the objects that exist now and
// applied: what kproxy would hold had it started now.
func (f *Feeder) Fresh() *Feeder {
	fresh := NewFeeder()
	for _, s := range f.Objects() {
		fresh.Feed(s)
	}
	fresh.Table.Apply()
	return fresh
}

// keyOf returns an object's namespace and name.
func keyOf(m *metav1.ObjectMeta) types.NamespacedName {
	return types.NamespacedName{Namespace: m.Namespace, Name: m.Name}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[types.NamespacedName]V) []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b types.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return keys
}
