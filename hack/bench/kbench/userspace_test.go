package main

import (
	"strings"
	"testing"
)

func TestPrintUserspace(t *testing.T) {
	res := results{}
	in := `userspace.Throughput.ratio 0.72
userspace.Throughput.ratio 0.65
userspace.Throughput.ratio 0.75
userspace.Latency.direct-p50-µs 4.5
userspace.Latency.proxied-p50-µs 9.5
userspace.Connect.ratio 0.45
`
	if err := readResults(strings.NewReader(in), res); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	failed, total := printUserspace(&b, res)
	out := b.String()
	for _, want := range []string{
		"| Bulk TCP throughput, proxied ÷ direct | ≥ 0.7× | 0.72× | pass |",
		"| 1-byte round trip, latency the proxy adds, p50 | ≤ 15 µs | 5.00 µs | pass |",
		"| 1-byte round trip, latency the proxy adds, p99 | ≤ 40 µs | — | not measured |",
		"| New connections per second, proxied ÷ direct | ≥ 0.5× | 0.45× | **FAIL** |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if failed != 3 || total != 5 {
		t.Errorf("%d of %d targets missed, want 3 of 5", failed, total)
	}
	b.Reset()
	if failed, total := printUserspace(&b, results{"nft.full.first": {1}}); failed != 0 || total != 0 || b.Len() != 0 {
		t.Errorf("without userspace figures: %d of %d, %q", failed, total, b.String())
	}
}
