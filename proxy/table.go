package proxy

import (
	"net/netip"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/endpoints"
)

// Table is the applied state of every service and its endpoints, per IP family. Events go
// to its trackers from any goroutine; Apply and Snapshot run on the sync goroutine only.
type Table struct {
	Services  *ServiceTracker
	Endpoints *endpoints.Tracker
	Node      *NodeTracker

	ports    map[types.NamespacedName]PortsByFamily
	eps      map[types.NamespacedName]endpoints.ByFamily
	node     nodeInfo
	families map[v1.IPFamily]*familyTable
}

// familyTable holds one family's service ports and their sorted names (nil when stale).
type familyTable struct {
	services map[ServicePortName]*Service
	order    []ServicePortName
}

// Applied reports what one Apply changed.
type Applied struct {
	// Services whose ports or endpoints changed.
	Services map[types.NamespacedName]struct{}
	// NodeChanged is set when the node's zone or addresses changed: every selection was redone.
	NodeChanged bool
	// Triggers are the EndpointSlice trigger times of the applied endpoint changes.
	Triggers []time.Time
}

// NewTable returns an empty table for the node named nodeName.
func NewTable(nodeName string) *Table {
	return &Table{
		Services:  NewServiceTracker(),
		Endpoints: endpoints.NewTracker(nodeName),
		Node:      NewNodeTracker(nodeName),
		ports:     map[types.NamespacedName]PortsByFamily{},
		eps:       map[types.NamespacedName]endpoints.ByFamily{},
		node:      nodeInfo{name: nodeName},
		families: map[v1.IPFamily]*familyTable{
			v1.IPv4Protocol: {services: map[ServicePortName]*Service{}},
			v1.IPv6Protocol: {services: map[ServicePortName]*Service{}},
		},
	}
}

// Apply moves every pending change into the table and reports what changed.
func (t *Table) Apply() Applied {
	applied := Applied{Services: map[types.NamespacedName]struct{}{}}
	for name, ports := range t.Services.Apply() {
		t.dropStalePorts(name, ports)
		setOrDelete(t.ports, name, ports, len(ports) > 0)
		applied.Services[name] = struct{}{}
	}
	for name, change := range t.Endpoints.Apply() {
		setOrDelete(t.eps, name, change.Endpoints, len(change.Endpoints) > 0)
		applied.Services[name] = struct{}{}
		if !change.Triggered.IsZero() {
			applied.Triggers = append(applied.Triggers, change.Triggered)
		}
	}
	if node, changed := t.Node.apply(); changed {
		t.node = node
		applied.NodeChanged = true
		for name := range t.ports {
			applied.Services[name] = struct{}{}
		}
	}
	for name := range applied.Services {
		t.addService(name)
	}
	return applied
}

// Snapshot returns the desired state of one family. It shares the table's maps: use it
// only until the next Apply.
func (t *Table) Snapshot(family v1.IPFamily) *Snapshot {
	ft := t.families[family]
	if ft.order == nil {
		ft.order = make([]ServicePortName, 0, len(ft.services))
		for name := range ft.services {
			ft.order = append(ft.order, name)
		}
		slices.SortFunc(ft.order, ServicePortName.Compare)
	}
	return &Snapshot{
		Family:   family,
		Node:     Node{Name: t.node.name, Zone: t.node.zone, IPs: t.node.ipsOf(family)},
		Services: ft.services,
		order:    ft.order,
	}
}

// dropStalePorts removes the table entries of the service's current ports that the new
// ports no longer have.
func (t *Table) dropStalePorts(name types.NamespacedName, now PortsByFamily) {
	for family, ft := range t.families {
		for _, sp := range t.ports[name][family] {
			if !slices.ContainsFunc(now[family], func(n ServicePort) bool { return n.Name == sp.Name }) {
				delete(ft.services, sp.Name)
				ft.order = nil
			}
		}
	}
}

// addService builds the table entries of one service from its ports and endpoints.
func (t *Table) addService(name types.NamespacedName) {
	for family, ports := range t.ports[name] {
		ft := t.families[family]
		byPort := t.eps[name][family]
		for i := range ports {
			sp := ports[i]
			all := byPort[sp.endpointKey()]
			if _, exists := ft.services[sp.Name]; !exists {
				ft.order = nil
			}
			ft.services[sp.Name] = &Service{
				ServicePort: sp,
				All:         all,
				Endpoints:   endpoints.Select(all, sp.Policy, sp.ExternallyReachable(), t.node.zone),
			}
		}
	}
}

// setOrDelete stores v under k when keep, else removes k.
func setOrDelete[K comparable, V any](m map[K]V, k K, v V, keep bool) {
	if keep {
		m[k] = v
	} else {
		delete(m, k)
	}
}

// nodeInfo is the part of the Node object the table uses.
type nodeInfo struct {
	name string
	zone string
	ips  []netip.Addr
}

// ipsOf returns the node addresses of one family.
func (n nodeInfo) ipsOf(family v1.IPFamily) []netip.Addr {
	return keepFamily(n.ips, family, netip.Addr.Is4)
}
