package proxy

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// benchServices is the scale the issues set: 10,000 services × 10 endpoints.
const benchServices, benchEndpoints = 10000, 10

// loadTable fills a table with n services of m endpoints each and applies them.
func loadTable(b *testing.B, n, m int) (*Table, []*discovery.EndpointSlice) {
	b.Helper()
	table := NewTable("node-a")
	slices := make([]*discovery.EndpointSlice, n)
	for i := range n {
		name := fmt.Sprintf("svc-%d", i)
		table.Services.Update(nil, newTestService(name, fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)))
		addrs := make([]string, m)
		for j := range m {
			k := i*m + j
			addrs[j] = fmt.Sprintf("10.%d.%d.%d", 1+k/65536, (k/256)%256, k%256)
		}
		slices[i] = newTestSlice(name, name+"-1", addrs...)
		table.Endpoints.Update(slices[i], false)
	}
	table.Apply()
	table.Snapshot(v1.IPv4Protocol)
	return table, slices
}

// BenchmarkTableFullLoad measures applying 10k services × 10 endpoints from scratch.
func BenchmarkTableFullLoad(b *testing.B) {
	for b.Loop() {
		loadTable(b, benchServices, benchEndpoints)
	}
}

// BenchmarkTableOneEndpointChange measures the table's share of a one-endpoint change at
// 10k services: tracker update, Apply and Snapshot.
func BenchmarkTableOneEndpointChange(b *testing.B) {
	table, slices := loadTable(b, benchServices, benchEndpoints)
	changed := slices[42].DeepCopy()
	flip := true // endpoints start ready
	b.ResetTimer()
	for b.Loop() {
		flip = !flip
		changed.Endpoints[0].Conditions.Ready = ptrTo(flip)
		table.Endpoints.Update(changed, false)
		if applied := table.Apply(); len(applied.Services) != 1 {
			b.Fatalf("applied %d services", len(applied.Services))
		}
		table.Snapshot(v1.IPv4Protocol)
	}
}
