package main

import (
	"fmt"
	"io"
	"strings"
)

// The userspace mode's figures come from its Go benchmarks (go test -bench in
// modes/userspace), which compare a connection through the proxy with a direct
// one on loopback, both in the same run. hack/bench.sh turns each benchmark's
// metrics into "userspace.<Benchmark>.<unit> value" lines.

// usRow is one line of the userspace table.
type usRow struct {
	what   string
	target string
	pass   func(float64) bool // nil: no target
	unit   string
	value  func(results) (float64, bool)
}

// difference returns the difference of two medians (a - b), times scale.
func difference(a, b string, scale float64) func(results) (float64, bool) {
	return func(r results) (float64, bool) {
		x, ok1 := r.get(a)
		y, ok2 := r.get(b)
		return (x - y) * scale, ok1 && ok2
	}
}

// usName returns the results name of a userspace benchmark metric.
func usName(bench, unit string) string { return "userspace." + bench + "." + unit }

// userspaceTargets are the targets for the userspace mode.
var userspaceTargets = []usRow{
	{"Bulk TCP throughput, proxied ÷ direct", "≥ 0.7×", func(v float64) bool { return v >= 0.7 }, "×",
		median(usName("Throughput", "ratio"), 1)},
	{"1-byte round trip, latency the proxy adds, p50", "≤ 15 µs", func(v float64) bool { return v <= 15 }, "µs",
		difference(usName("Latency", "proxied-p50-µs"), usName("Latency", "direct-p50-µs"), 1)},
	{"1-byte round trip, latency the proxy adds, p99", "≤ 40 µs", func(v float64) bool { return v <= 40 }, "µs",
		difference(usName("Latency", "proxied-p99-µs"), usName("Latency", "direct-p99-µs"), 1)},
	{"New connections per second, proxied ÷ direct", "≥ 0.5×", func(v float64) bool { return v >= 0.5 }, "×",
		median(usName("Connect", "ratio"), 1)},
	{"Go memory the proxy adds per idle connection", "≤ 16 KiB", func(v float64) bool { return v <= 16 }, "KiB",
		median(usName("IdleMemory", "added-B/conn"), 1.0/1024)},
}

// userspaceOthers are the figures behind the targets.
var userspaceOthers = []usRow{
	{"Bulk TCP, direct", "", nil, "MB/s", median(usName("Throughput", "direct-MB/s"), 1)},
	{"Bulk TCP, proxied", "", nil, "MB/s", median(usName("Throughput", "proxied-MB/s"), 1)},
	{"Bulk TCP, CPU per MiB (client, proxy and endpoint), direct", "", nil, "µs", median(usName("Throughput", "direct-cpu-µs/MiB"), 1)},
	{"Bulk TCP, CPU per MiB (client, proxy and endpoint), proxied", "", nil, "µs", median(usName("Throughput", "proxied-cpu-µs/MiB"), 1)},
	{"1-byte round trip p50, direct", "", nil, "µs", median(usName("Latency", "direct-p50-µs"), 1)},
	{"1-byte round trip p99, direct", "", nil, "µs", median(usName("Latency", "direct-p99-µs"), 1)},
	{"New connections per second, direct", "", nil, "/s", median(usName("Connect", "direct-conns/s"), 1)},
	{"New connections per second, proxied", "", nil, "/s", median(usName("Connect", "proxied-conns/s"), 1)},
	{"CPU per connection, direct", "", nil, "µs", median(usName("Connect", "direct-cpu-µs/conn"), 1)},
	{"CPU per connection, proxied", "", nil, "µs", median(usName("Connect", "proxied-cpu-µs/conn"), 1)},
	{"Go memory per idle proxied connection, both ends included", "", nil, "KiB", median(usName("IdleMemory", "proxied-B/conn"), 1.0/1024)},
}

// printUserspace writes the userspace tables when the results hold userspace
// figures, and returns how many targets were missed (or not measured) out of
// how many.
func printUserspace(w io.Writer, res results) (failed, total int) {
	if !hasPrefix(res, "userspace.") {
		return 0, 0
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Userspace mode, loopback, proxied against direct in one run | Target | Measured | |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range userspaceTargets {
		measured, verdict, ok := r.judge(res)
		if !ok {
			failed++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.what, r.target, measured, verdict)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Userspace mode, other figures | Measured |")
	fmt.Fprintln(w, "|---|---|")
	for _, r := range userspaceOthers {
		if v, ok := r.value(res); ok {
			fmt.Fprintf(w, "| %s | %s |\n", r.what, format(v, ok, r.unit))
		}
	}
	return failed, len(userspaceTargets)
}

// judge returns a target row's figure and verdict, and whether it passed.
func (r usRow) judge(res results) (measured, verdict string, passed bool) {
	v, ok := r.value(res)
	measured = format(v, ok, r.unit)
	switch {
	case !ok:
		return measured, "not measured", false
	case !r.pass(v):
		return measured, "**FAIL**", false
	}
	return measured, "pass", true
}

// hasPrefix reports whether any measurement's name starts with prefix.
func hasPrefix(res results, prefix string) bool {
	for name := range res {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
