package userspace

import (
	"slices"
	"testing"
	"time"
)

// The two ways to reach the benchmark endpoint, as indexes.
const (
	direct  = 0
	proxied = 1
)

// modes names them in reported metrics.
var modes = [2]string{"direct", "proxied"}

// order returns the order of the modes in iteration i: direct first in even
// iterations, proxied first in odd ones.
func order(i int) [2]int {
	if i%2 == 0 {
		return [2]int{direct, proxied}
	}
	return [2]int{proxied, direct}
}

// pair accumulates the wall time, CPU time and amount of work of each mode.
type pair struct {
	wall, cpu [2]time.Duration
	work      [2]float64
}

// run does one unit of work in each mode, in iteration i's order. unit returns
// the amount of work it did (bytes, connections).
func (p *pair) run(b *testing.B, i int, unit func(mode int) float64) {
	b.Helper()
	for _, mode := range order(i) {
		start, cpu := time.Now(), startCPU()
		p.work[mode] += unit(mode)
		p.cpu[mode] += cpu.since()
		p.wall[mode] += time.Since(start)
	}
}

// report reports each mode's rate (work per second times scale, in rateUnit),
// CPU per cpuPer of work (in cpuUnit, microseconds), and the proxied rate as a
// fraction of the direct one ("ratio").
func (p *pair) report(b *testing.B, scale float64, rateUnit, cpuUnit string, cpuPer float64) {
	var rate [2]float64
	for mode, name := range modes {
		if p.work[mode] == 0 {
			return
		}
		rate[mode] = p.work[mode] / p.wall[mode].Seconds()
		b.ReportMetric(rate[mode]*scale, name+"-"+rateUnit)
		b.ReportMetric(float64(p.cpu[mode].Microseconds())/(p.work[mode]/cpuPer), name+"-"+cpuUnit)
	}
	b.ReportMetric(rate[proxied]/rate[direct], "ratio")
}

// reportPercentiles reports the 50th and 99th percentile of a mode's round
// trips in microseconds.
func reportPercentiles(b *testing.B, mode string, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))]) / float64(time.Microsecond) }
	b.ReportMetric(at(0.50), mode+"-p50-µs")
	b.ReportMetric(at(0.99), mode+"-p99-µs")
}
