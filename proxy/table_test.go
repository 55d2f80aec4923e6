package proxy

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// tableEvent is one informer event in a table test.
type tableEvent struct {
	oldSvc, newSvc *v1.Service
	slice          *discovery.EndpointSlice
	deleteSlice    bool
}

func TestTableApply(t *testing.T) {
	a := newTestService("a", "10.96.0.1")
	aPort := func(s *v1.Service) { s.Spec.Ports[0].Port = 81; s.ResourceVersion = "2" }
	a81 := newTestService("a", "10.96.0.1", aPort)
	aLabel := newTestService("a", "10.96.0.1", func(s *v1.Service) { s.Labels = map[string]string{"x": "y"}; s.ResourceVersion = "2" })
	slice1 := newTestSlice("a", "a-1", "10.0.0.1", "10.0.0.2")
	tests := []struct {
		name         string
		before       []tableEvent
		events       []tableEvent
		wantChanged  []string
		wantServices []string            // service ports in the IPv4 snapshot
		wantEps      map[string][]string // selected cluster endpoints per port
	}{
		{
			name:         "service and slice added",
			events:       []tableEvent{{newSvc: a}, {slice: slice1}},
			wantChanged:  []string{"ns/a"},
			wantServices: []string{"ns/a:http"},
			wantEps:      map[string][]string{"ns/a:http": {"10.0.0.1:8080", "10.0.0.2:8080"}},
		},
		{
			name:         "add then delete collapses",
			events:       []tableEvent{{newSvc: a}, {oldSvc: a}},
			wantChanged:  nil,
			wantServices: nil,
		},
		{
			name:         "update not visible to the proxy is dropped",
			before:       []tableEvent{{newSvc: a}, {slice: slice1}},
			events:       []tableEvent{{oldSvc: a, newSvc: aLabel}},
			wantChanged:  nil,
			wantServices: []string{"ns/a:http"},
		},
		{
			name:         "port change keeps endpoints",
			before:       []tableEvent{{newSvc: a}, {slice: slice1}},
			events:       []tableEvent{{oldSvc: a, newSvc: a81}},
			wantChanged:  []string{"ns/a"},
			wantServices: []string{"ns/a:http"},
			wantEps:      map[string][]string{"ns/a:http": {"10.0.0.1:8080", "10.0.0.2:8080"}},
		},
		{
			name:         "slice deleted empties the service",
			before:       []tableEvent{{newSvc: a}, {slice: slice1}},
			events:       []tableEvent{{slice: slice1, deleteSlice: true}},
			wantChanged:  []string{"ns/a"},
			wantServices: []string{"ns/a:http"},
			wantEps:      map[string][]string{"ns/a:http": {}},
		},
		{
			name:         "service deleted",
			before:       []tableEvent{{newSvc: a}, {slice: slice1}},
			events:       []tableEvent{{oldSvc: a}},
			wantChanged:  []string{"ns/a"},
			wantServices: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable("node-a")
			feed(table, tt.before)
			table.Apply()
			feed(table, tt.events)
			applied := table.Apply()
			if got := sortedNames(applied.Services); !slices.Equal(got, tt.wantChanged) {
				t.Errorf("changed = %v, want %v", got, tt.wantChanged)
			}
			snap := table.Snapshot(v1.IPv4Protocol)
			var got []string
			for _, name := range snap.Sorted() {
				got = append(got, name.String())
			}
			if !slices.Equal(got, tt.wantServices) {
				t.Errorf("snapshot services = %v, want %v", got, tt.wantServices)
			}
			for name, want := range tt.wantEps {
				svc := findService(snap, name)
				if svc == nil {
					t.Fatalf("service %s missing", name)
				}
				if eps := endpointStrings(svc.Endpoints.Cluster); !slices.Equal(eps, want) {
					t.Errorf("%s endpoints = %v, want %v", name, eps, want)
				}
			}
		})
	}
}

func TestTableNodeZoneChangeReselects(t *testing.T) {
	table := NewTable("node-a")
	table.Services.Update(nil, newTestService("a", "10.96.0.1"))
	slice := newTestSlice("a", "a-1", "10.0.0.1", "10.0.0.2")
	slice.Endpoints[0].Hints = &discovery.EndpointHints{ForZones: []discovery.ForZone{{Name: "z1"}}}
	slice.Endpoints[1].Hints = &discovery.EndpointHints{ForZones: []discovery.ForZone{{Name: "z2"}}}
	table.Endpoints.Update(slice, false)
	table.Apply()
	if got := endpointStrings(table.Snapshot(v1.IPv4Protocol).Services[httpPort("a")].Endpoints.Cluster); len(got) != 2 {
		t.Fatalf("without zone: endpoints = %v, want both", got)
	}
	node := &v1.Node{}
	node.Name = "node-a"
	node.Labels = map[string]string{v1.LabelTopologyZone: "z2"}
	node.Status.Addresses = []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: "192.0.2.10"}}
	if !table.Node.Update(node) {
		t.Fatal("zone change not reported as pending")
	}
	applied := table.Apply()
	snap := table.Snapshot(v1.IPv4Protocol)
	if !applied.NodeChanged || len(applied.Services) != 1 {
		t.Errorf("applied = %+v, want node change touching ns/a", applied)
	}
	if got := endpointStrings(snap.Services[httpPort("a")].Endpoints.Cluster); !slices.Equal(got, []string{"10.0.0.2:8080"}) {
		t.Errorf("in zone z2: endpoints = %v", got)
	}
	if len(snap.Node.IPs) != 1 || snap.Node.IPs[0].String() != "192.0.2.10" || snap.Node.Zone != "z2" {
		t.Errorf("snapshot node = %+v", snap.Node)
	}
}

// feed sends events to the table's trackers.
func feed(table *Table, events []tableEvent) {
	for _, e := range events {
		if e.slice != nil {
			table.Endpoints.Update(e.slice, e.deleteSlice)
		} else {
			table.Services.Update(e.oldSvc, e.newSvc)
		}
	}
}

// sortedNames returns the set's names sorted, nil when empty.
func sortedNames(set map[types.NamespacedName]struct{}) []string {
	var out []string
	for n := range set {
		out = append(out, n.String())
	}
	slices.Sort(out)
	return out
}

// findService looks a service port up by its printed name.
func findService(snap *Snapshot, name string) *Service {
	for n, s := range snap.Services {
		if n.String() == name {
			return s
		}
	}
	return nil
}

// endpointStrings prints endpoints, never nil.
func endpointStrings[E interface{ String() string }](eps []E) []string {
	out := []string{}
	for _, e := range eps {
		out = append(out, e.String())
	}
	return out
}
