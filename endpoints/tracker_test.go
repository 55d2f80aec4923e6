package endpoints

import (
	"testing"
	"time"

	discovery "k8s.io/api/discovery/v1"
)

// step is one slice event in a tracker test.
type step struct {
	slice   *discovery.EndpointSlice
	deleted bool
}

func TestTrackerCoalesces(t *testing.T) {
	a1 := testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "", "rs"))
	a2 := testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.2", "", "rs"))
	tests := []struct {
		name        string
		applied     []step // events applied before the steps under test
		steps       []step
		wantPending int
		wantEmpty   bool // the pending change removes the service's endpoints
	}{
		{name: "add", steps: []step{{slice: a1}}, wantPending: 1},
		{name: "add then delete collapses", steps: []step{{slice: a1}, {slice: a1, deleted: true}}, wantPending: 0},
		{name: "no-op update drops", applied: []step{{slice: a1}}, steps: []step{{slice: a1}}, wantPending: 0},
		{name: "update then revert drops", applied: []step{{slice: a1}}, steps: []step{{slice: a2}, {slice: a1}}, wantPending: 0},
		{name: "delete", applied: []step{{slice: a1}}, steps: []step{{slice: a1, deleted: true}}, wantPending: 1, wantEmpty: true},
		{name: "slice without service label ignored", steps: []step{{slice: func() *discovery.EndpointSlice {
			s := testSlice("x", discovery.AddressTypeIPv4, withEndpoint("10.0.0.9", "", "rs"))
			delete(s.Labels, discovery.LabelServiceName)
			return s
		}()}}, wantPending: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker("n1")
			for _, s := range tt.applied {
				tr.Update(s.slice, s.deleted)
			}
			tr.Apply()
			for _, s := range tt.steps {
				tr.Update(s.slice, s.deleted)
			}
			if got := tr.Pending(); got != tt.wantPending {
				t.Fatalf("Pending() = %d, want %d", got, tt.wantPending)
			}
			changes := tr.Apply()
			if len(changes) != tt.wantPending {
				t.Fatalf("Apply() gave %d changes, want %d", len(changes), tt.wantPending)
			}
			for _, c := range changes {
				if (len(c.Endpoints) == 0) != tt.wantEmpty {
					t.Errorf("change endpoints = %v, want empty %v", c.Endpoints, tt.wantEmpty)
				}
			}
			if tr.Pending() != 0 {
				t.Errorf("Pending() after Apply = %d", tr.Pending())
			}
		})
	}
}

func TestTrackerKeepsEarliestTriggerTime(t *testing.T) {
	early := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	late := early.Add(time.Second)
	annotate := func(at time.Time) sliceOpt {
		return func(s *discovery.EndpointSlice) {
			s.Annotations = map[string]string{TriggerTimeAnnotation: at.Format(time.RFC3339Nano)}
		}
	}
	tr := NewTracker("n1")
	tr.Update(testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "", "rs"), annotate(early)), false)
	tr.Update(testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.2", "", "rs"), annotate(late)), false)
	for _, c := range tr.Apply() {
		if !c.Triggered.Equal(early) {
			t.Fatalf("Triggered = %v, want %v", c.Triggered, early)
		}
	}
}
