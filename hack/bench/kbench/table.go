package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// results are measurements by name; a name measured several times keeps every
// value, and the table uses their median.
type results map[string][]float64

// readResults reads "name value" lines (other lines are ignored) and the lines of
// "go test -bench" output, whose ns/op values are stored as "bench.<Name> <ns>"
// and their cpu-ms/op values (modes/ipvs reports them) as "bench.<Name>.cpu-ms".
func readResults(r io.Reader, res results) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2:
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				res[f[0]] = append(res[f[0]], v)
			}
		case len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark") && f[3] == "ns/op":
			name, _, _ := strings.Cut(strings.TrimPrefix(f[0], "Benchmark"), "-")
			if v, err := strconv.ParseFloat(f[2], 64); err == nil {
				res["bench."+name] = append(res["bench."+name], v)
			}
			for i := 4; i+1 < len(f); i += 2 {
				if v, err := strconv.ParseFloat(f[i], 64); err == nil && f[i+1] == "cpu-ms/op" {
					res["bench."+name+".cpu-ms"] = append(res["bench."+name+".cpu-ms"], v)
				}
			}
		}
	}
	return sc.Err()
}

// get returns the median of a measurement, ok false when it is missing.
func (r results) get(name string) (float64, bool) {
	v := slices.Clone(r[name])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	return v[len(v)/2], true
}

// row is one line of the table: how to compute the figure and its target.
type row struct {
	what   string
	target string
	limit  float64 // the figure passes when <= limit; 0: no target
	unit   string
	value  func(results) (float64, bool)
}

// median returns a row value function reading one measurement, times scale.
func median(name string, scale float64) func(results) (float64, bool) {
	return func(r results) (float64, bool) {
		v, ok := r.get(name)
		return v * scale, ok
	}
}

// slower returns the larger median of two measurements, times scale.
func slower(a, b string, scale float64) func(results) (float64, bool) {
	return func(r results) (float64, bool) {
		x, ok1 := r.get(a)
		y, ok2 := r.get(b)
		return max(x, y) * scale, ok1 && ok2
	}
}

// ratio returns the ratio of two medians.
func ratio(a, b string) func(results) (float64, bool) {
	return func(r results) (float64, bool) {
		x, ok1 := r.get(a)
		y, ok2 := r.get(b)
		return x / y, ok1 && ok2 && y > 0
	}
}

// targets are the figures ("iptables mode ... built for 10k+ services").
var targets = []row{
	{"One endpoint change → rules applied, p50 (iptables-nft)", "≤ 30 ms", 30, "ms", median("nft.partial.p50", 1e3)},
	{"One endpoint change → rules applied, p99 (iptables-nft)", "≤ 100 ms", 100, "ms", median("nft.partial.p99", 1e3)},
	{"Full sync, iptables-nft (slower of first apply and re-apply)", "≤ 10 s", 10, "s", slower("nft.full.first", "nft.full.again", 1)},
	{"Full sync, iptables-legacy ÷ plain iptables-legacy-restore of the same payload", "≤ 1.2×", 1.2, "×", ratio("legacy.full.first", "legacy.restore")},
	{"Rendering the full ruleset", "≤ 150 ms", 150, "ms", median("bench.RenderFull", 1e-6)},
	{"kproxy RSS after its first full sync (real binary, real API server)", "≤ 150 MB", 150, "MB", median("kproxy.rss.mb", 1)},
	{"IPVS: sync planning, full sync against the fakes (modes/ipvs BenchmarkFullSync10k)", "≤ 200 ms", 200, "ms", median("bench.FullSync10k", 1e-6)},
	{"IPVS: one endpoint change applied in the VM kernel (kproxy's sync, Debian kernel under TCG), p50", "≤ 20 ms", 20, "ms", median("ipvs.vm.sync", 1e3)},
}

// others are the other figures measured on the way.
var others = []row{
	{"Full sync, iptables-nft, first apply into empty tables", "", 0, "s", median("nft.full.first", 1)},
	{"Full sync, iptables-nft, re-apply over the same rules", "", 0, "s", median("nft.full.again", 1)},
	{"Full sync, iptables-legacy, first apply", "", 0, "s", median("legacy.full.first", 1)},
	{"Plain iptables-legacy-restore of the same payload", "", 0, "s", median("legacy.restore", 1)},
	{"Plain iptables-nft-restore of the same payload", "", 0, "s", median("nft.restore", 1)},
	{"One endpoint change, iptables-nft, worst of the run", "", 0, "ms", median("nft.partial.max", 1e3)},
	{"One endpoint change, iptables-legacy, p50", "", 0, "ms", median("legacy.partial.p50", 1e3)},
	{"Rendering a one-endpoint partial sync", "", 0, "µs", median("bench.RenderPartial", 1e-3)},
	{"proxy.Table: loading 10,000 services", "", 0, "ms", median("bench.TableFullLoad", 1e-6)},
	{"proxy.Table: one endpoint change", "", 0, "µs", median("bench.TableOneEndpointChange", 1e-3)},
	{"kproxy's first full sync, as its metrics report it", "", 0, "s", median("kproxy.full", 1)},
	{"kproxy: start to every rule programmed", "", 0, "s", median("kproxy.ready", 1)},
	{"kproxy RSS: peak (VmHWM)", "", 0, "MB", median("kproxy.peak.mb", 1)},
	{"kproxy RSS after a restart over its own rules", "", 0, "MB", median("kproxy.rss.mb.restart", 1)},
	{"Creating 10,000 Services + EndpointSlices (8 clients)", "", 0, "s", median("api.load", 1)},
	{"IPVS VM: size of the measurement (10 endpoints each)", "", 0, "services", median("ipvs.vm.services", 1)},
	{"IPVS VM: the same endpoint change with ipvsadm -d + ipvsadm -a (two process starts under TCG included)", "", 0, "ms", median("ipvs.vm.ipvsadm", 1e3)},
	{"IPVS VM: kproxy's IPVS netlink calls within its sync", "", 0, "ms", median("ipvs.vm.calls", 1e3)},
	{"IPVS VM: the same delete + add through netlink from one process (kpguest swap)", "", 0, "ms", median("ipvs.vm.netlink", 1e3)},
	{"IPVS VM: kproxy start → its first full sync done", "", 0, "s", median("ipvs.vm.first", 1)},
	{"IPVS: sync planning, full sync against the fakes, CPU time (not inflated by a busy machine)", "", 0, "ms", median("bench.FullSync10k.cpu-ms", 1)},
	{"IPVS: one endpoint change, partial sync against the fakes", "", 0, "µs", median("bench.OneEndpointChange10k", 1e-3)},
	{"IPVS: full resync over fakes that hold everything already", "", 0, "ms", median("bench.Resync10k", 1e-6)},
}

// runTable prints the results files as Markdown tables: the targets with pass or
// fail, then the context figures.
func runTable(args []string) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("want results files")
	}
	res := results{}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = readResults(f, res)
		f.Close()
		if err != nil {
			return err
		}
	}
	failed := printTable(os.Stdout, res)
	usFailed, usTotal := printUserspace(os.Stdout, res)
	if failed+usFailed > 0 {
		fmt.Printf("\n%d of %d targets missed.\n", failed+usFailed, len(targets)+usTotal)
	}
	return nil
}

// printTable writes both tables and returns how many targets were missed (or not
// measured).
func printTable(w io.Writer, res results) int {
	failed := 0
	fmt.Fprintln(w, "| Figure (10,000 services × 10 endpoints) | Target | Measured | |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range targets {
		v, ok := r.value(res)
		verdict := "pass"
		switch {
		case !ok:
			verdict, failed = "not measured", failed+1
		case v > r.limit:
			verdict, failed = "**FAIL**", failed+1
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.what, r.target, format(v, ok, r.unit), verdict)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Other figures | Measured |")
	fmt.Fprintln(w, "|---|---|")
	for _, r := range others {
		v, ok := r.value(res)
		if ok {
			fmt.Fprintf(w, "| %s | %s |\n", r.what, format(v, ok, r.unit))
		}
	}
	return failed
}

// format prints a figure with a precision fitting its size.
func format(v float64, ok bool, unit string) string {
	switch {
	case !ok:
		return "—"
	case unit == "×":
		return fmt.Sprintf("%.2f×", v)
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}
