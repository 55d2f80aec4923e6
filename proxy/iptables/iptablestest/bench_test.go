package iptablestest

import (
	"context"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// syntheticPayload renders n services with two endpoints each (about 10
// lines per service).
func syntheticPayload(b *testing.B, n int) (Synthetic, []byte) {
	syn := Synthetic{Family: iptables.IPv4, Services: n, Endpoints: 2}
	var p iptables.Payload
	syn.Write(&p)
	payload, err := p.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	return syn, append([]byte(nil), payload...)
}

// BenchmarkFakeRestore10kServices applies a 10,000-service payload
// (~100k lines) to an empty fake.
func BenchmarkFakeRestore10kServices(b *testing.B) {
	syn, payload := syntheticPayload(b, 10000)
	ctx := context.Background()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		f := New(iptables.IPv4)
		if err := f.Restore(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(syn.Lines()), "lines/op")
}

// BenchmarkFakeResync10kServices applies the same payload again to a fake
// holding it, which flushes and refills every chain.
func BenchmarkFakeResync10kServices(b *testing.B) {
	_, payload := syntheticPayload(b, 10000)
	ctx := context.Background()
	f := New(iptables.IPv4)
	if err := f.Restore(ctx, payload); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Restore(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFakeDump10kServices prints a 10,000-service state.
func BenchmarkFakeDump10kServices(b *testing.B) {
	_, payload := syntheticPayload(b, 10000)
	f := New(iptables.IPv4)
	if err := f.Restore(context.Background(), payload); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Dump()
	}
}

// BenchmarkTrace10kServices traces a packet to the last of 10,000
// services, which scans all of KUBE-SERVICES.
func BenchmarkTrace10kServices(b *testing.B) {
	syn, payload := syntheticPayload(b, 10000)
	ctx := context.Background()
	f := New(iptables.IPv4)
	if err := f.Restore(ctx, payload); err != nil {
		b.Fatal(err)
	}
	if err := syn.Bootstrap(ctx, f); err != nil {
		b.Fatal(err)
	}
	tr := NewTracer(f, Node{})
	p := Packet{Source: syn.EndpointIP(0, 0), Protocol: "tcp", Dest: syn.ServiceIP(9999), DestPort: 80}
	if _, err := tr.Trace(p); err != nil { // parses every rule's Args once
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := tr.Trace(p)
		if err != nil || len(out) != 2 {
			b.Fatal(out, err)
		}
	}
}
