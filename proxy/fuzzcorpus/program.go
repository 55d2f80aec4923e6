package fuzzcorpus

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// Kind is what a Step does.
type Kind int

// The kinds of steps.
const (
	// SetService adds or updates Step.Service.
	SetService Kind = iota
	// DeleteService deletes the service named like Step.Service.
	DeleteService
	// SetSlice adds or updates Step.Slice.
	SetSlice
	// DeleteSlice deletes the slice named like Step.Slice.
	DeleteSlice
	// Sync applies the pending changes and syncs.
	Sync
	// SetNode updates kproxy's own Node to Step.Node (zone and addresses).
	SetNode
)

// Step is one event of a program, or a sync.
type Step struct {
	Kind    Kind
	Service *v1.Service
	Slice   *discovery.EndpointSlice
	Node    *v1.Node
}

// String describes the step for test failures.
func (s Step) String() string {
	switch s.Kind {
	case SetService:
		return fmt.Sprintf("set service %s/%s", s.Service.Namespace, s.Service.Name)
	case DeleteService:
		return fmt.Sprintf("delete service %s/%s", s.Service.Namespace, s.Service.Name)
	case SetSlice:
		return fmt.Sprintf("set slice %s/%s", s.Slice.Namespace, s.Slice.Name)
	case DeleteSlice:
		return fmt.Sprintf("delete slice %s/%s", s.Slice.Namespace, s.Slice.Name)
	case SetNode:
		return "set node"
	}
	return "sync"
}

// maxSteps bounds the events of one program.
const maxSteps = 48

// Generate turns fuzzer bytes into a program: the anchor's objects, a sync, then up
// to maxSteps events with syncs among them, and a final sync. The same bytes always
// give the same program.
func Generate(data []byte) []Step {
	g := &gen{src: NewSource(data), rv: 1}
	steps := []Step{{Kind: SetService, Service: AnchorService()}}
	for _, sl := range AnchorSlices() {
		steps = append(steps, Step{Kind: SetSlice, Slice: sl})
	}
	steps = append(steps, Step{Kind: Sync})
	for range maxSteps {
		if g.src.Done() {
			break
		}
		steps = append(steps, g.step())
	}
	return append(steps, Step{Kind: Sync})
}

// step makes one event or sync.
func (g *gen) step() Step {
	switch k := g.src.Intn(17); {
	case k < 5:
		return Step{Kind: SetService, Service: g.service()}
	case k < 6:
		return Step{Kind: DeleteService, Service: &v1.Service{ObjectMeta: g.meta("svc", 4)}}
	case k < 11:
		return Step{Kind: SetSlice, Slice: g.slice()}
	case k < 12:
		return Step{Kind: DeleteSlice, Slice: &discovery.EndpointSlice{ObjectMeta: g.meta("slice", 6)}}
	case k < 13:
		return Step{Kind: SetNode, Node: g.node()}
	}
	return Step{Kind: Sync}
}

// node builds kproxy's Node with a zone and addresses of any kind, family and shape.
func (g *gen) node() *v1.Node {
	s := g.src
	n := NewNode()
	n.Labels[v1.LabelTopologyZone] = Pick(s, "zone-a", "zone-b", "")
	n.Status.Addresses = nil
	for range s.Intn(4) {
		n.Status.Addresses = append(n.Status.Addresses, v1.NodeAddress{
			Type:    Pick(s, v1.NodeInternalIP, v1.NodeInternalIP, v1.NodeExternalIP, v1.NodeHostName),
			Address: g.ip(family(s.Intn(2))),
		})
	}
	return n
}
