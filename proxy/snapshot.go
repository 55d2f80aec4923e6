package proxy

import (
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/endpoints"
)

// Service is one service port as a backend programs it: what the Service asks for, every
// endpoint merged from its slices, and the endpoints this node selected.
type Service struct {
	ServicePort
	// All is every merged endpoint of the port, whatever its conditions.
	All []endpoints.Endpoint
	// Endpoints is the selection for this node (see endpoints.Select).
	Endpoints endpoints.Selection
}

// Node is what backends need to know of the node kproxy runs on.
type Node struct {
	Name string
	// Zone is the topology.kubernetes.io/zone label.
	Zone string
	// IPs are the node's addresses of the snapshot's family.
	IPs []netip.Addr
}

// Snapshot is the desired state of one IP family.
type Snapshot struct {
	Family v1.IPFamily
	Node   Node
	// Services holds every service port of the family.
	Services map[ServicePortName]*Service
	order    []ServicePortName
}

// Sorted returns the service port names in a stable order, for deterministic output.
// Table's snapshots carry the order; a snapshot built by hand (tests, tools) gets it
// sorted here on first use.
func (s *Snapshot) Sorted() []ServicePortName {
	if len(s.order) != len(s.Services) {
		s.order = make([]ServicePortName, 0, len(s.Services))
		for n := range s.Services {
			s.order = append(s.order, n)
		}
		slices.SortFunc(s.order, ServicePortName.Compare)
	}
	return s.order
}
