package endpoints

import (
	"slices"
	"testing"
)

func TestSelect(t *testing.T) {
	tests := []struct {
		name       string
		eps        []Endpoint
		policy     Policy
		external   bool
		zone       string
		wantClus   []string
		wantLocal  []string
		wantAnyEps bool
	}{
		{
			name:       "ready endpoints only",
			eps:        []Endpoint{ep("10.0.0.1", "rs"), ep("10.0.0.2", ""), ep("10.0.0.3", "st")},
			wantClus:   []string{"10.0.0.1:8080"},
			wantAnyEps: true,
		},
		{
			name:       "serving-terminating fallback when none ready",
			eps:        []Endpoint{ep("10.0.0.1", "st"), ep("10.0.0.2", "t"), ep("10.0.0.3", "")},
			wantClus:   []string{"10.0.0.1:8080"},
			wantAnyEps: true,
		},
		{
			name:     "nothing usable",
			eps:      []Endpoint{ep("10.0.0.2", "t"), ep("10.0.0.3", "")},
			wantClus: []string{},
		},
		{
			name:       "topology hints used when all have them and one matches",
			eps:        []Endpoint{ep("10.0.0.1", "rs", "a"), ep("10.0.0.2", "rs", "b"), ep("10.0.0.3", "rs", "a")},
			zone:       "a",
			wantClus:   []string{"10.0.0.1:8080", "10.0.0.3:8080"},
			wantAnyEps: true,
		},
		{
			name:       "topology ignored when one endpoint lacks hints",
			eps:        []Endpoint{ep("10.0.0.1", "rs", "a"), ep("10.0.0.2", "rs")},
			zone:       "a",
			wantClus:   []string{"10.0.0.1:8080", "10.0.0.2:8080"},
			wantAnyEps: true,
		},
		{
			name:       "topology ignored when no hint names the zone",
			eps:        []Endpoint{ep("10.0.0.1", "rs", "b"), ep("10.0.0.2", "rs", "c")},
			zone:       "a",
			wantClus:   []string{"10.0.0.1:8080", "10.0.0.2:8080"},
			wantAnyEps: true,
		},
		{
			name:       "topology ignored on a node without zone",
			eps:        []Endpoint{ep("10.0.0.1", "rs", "a"), ep("10.0.0.2", "rs", "b")},
			wantClus:   []string{"10.0.0.1:8080", "10.0.0.2:8080"},
			wantAnyEps: true,
		},
		{
			name:       "internal Local: local endpoints only, no cluster set",
			eps:        []Endpoint{ep("10.0.0.1", "rsl"), ep("10.0.0.2", "rs")},
			policy:     Policy{InternalLocal: true},
			wantClus:   []string{},
			wantLocal:  []string{"10.0.0.1:8080"},
			wantAnyEps: true,
		},
		{
			name:       "external Local keeps cluster set for internal traffic",
			eps:        []Endpoint{ep("10.0.0.1", "rsl"), ep("10.0.0.2", "rs")},
			policy:     Policy{ExternalLocal: true},
			external:   true,
			wantClus:   []string{"10.0.0.1:8080", "10.0.0.2:8080"},
			wantLocal:  []string{"10.0.0.1:8080"},
			wantAnyEps: true,
		},
		{
			name:       "internal Local on an external service keeps cluster set for external traffic",
			eps:        []Endpoint{ep("10.0.0.2", "rs")},
			policy:     Policy{InternalLocal: true},
			external:   true,
			wantClus:   []string{"10.0.0.2:8080"},
			wantLocal:  []string{},
			wantAnyEps: true,
		},
		{
			name:       "no local endpoints but some elsewhere: cluster set kept for short-circuited external traffic",
			eps:        []Endpoint{ep("10.0.0.2", "rs")},
			policy:     Policy{InternalLocal: true, ExternalLocal: true},
			external:   true,
			wantClus:   []string{"10.0.0.2:8080"},
			wantLocal:  []string{},
			wantAnyEps: true,
		},
		{
			name:       "local terminating fallback only when no local ready",
			eps:        []Endpoint{ep("10.0.0.1", "stl"), ep("10.0.0.2", "rs")},
			policy:     Policy{InternalLocal: true},
			wantClus:   []string{},
			wantLocal:  []string{"10.0.0.1:8080"},
			wantAnyEps: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := Select(tt.eps, tt.policy, tt.external, tt.zone)
			if got := addrs(sel.Cluster); !slices.Equal(got, tt.wantClus) {
				t.Errorf("Cluster = %v, want %v", got, tt.wantClus)
			}
			if got := addrs(sel.Local); !slices.Equal(got, orEmpty(tt.wantLocal)) {
				t.Errorf("Local = %v, want %v", got, tt.wantLocal)
			}
			if sel.Any != tt.wantAnyEps {
				t.Errorf("Any = %v, want %v", sel.Any, tt.wantAnyEps)
			}
		})
	}
}
