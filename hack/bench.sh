#!/usr/bin/env bash
# hack/bench.sh (make bench): the figures behind README.md's "Performance" table,
# for iptables mode at 10,000 services × 10 endpoints, and IPVS mode (planning
# against fakes, and one endpoint change in the QEMU VM). See hack/bench/README.md.
#
# Runs as root. Everything that touches iptables, links or the control plane runs
# in network namespaces the benchmark creates (kbench re-runs itself under
# "unshare --net" and checks it left the parent's namespace): the host's rules are
# never read or changed. Takes about 10 minutes on 2 cores.
#
# Results: _output/bench/results.txt (one "name value" line per measurement),
# _output/bench/gobench.txt (go test -bench output) and the table, printed and
# written to _output/bench/RESULTS.md.
#
# "hack/bench.sh ipvs" runs only the IPVS section (sync planning against the fakes,
# then one endpoint change at 10,000 services in the QEMU VM, about 10 minutes),
# into _output/bench-ipvs/.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/_output/bench"
bin="$root/_output/bin"
GO=${GO:-go}

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

only=${1:-}
if [ "$only" = ipvs ]; then
	out="$root/_output/bench-ipvs"
fi

# ipvs_section measures IPVS mode: sync planning for 10,000 services × 10 endpoints
# against the fakes (modes/ipvs benchmarks), then, in the QEMU VM of e2e/ipvs
# (Debian's kernel under TCG), one endpoint change at $KPROXY_BENCH_IPVS_SCALE
# services (default 10,000) applied by kproxy, next to the same change made with
# ipvsadm. The VM test appends its ipvs.vm.* lines to results.txt itself.
ipvs_section() {
	say "IPVS mode: sync planning against the fakes (modes/ipvs, 3 runs)"
	"$GO" test -run '^$' -bench 'FullSync10k$|Resync10k$|OneEndpointChange10k$' -benchtime 3x -count 3 ./modes/ipvs/ |
		tee -a "$out/gobench.txt" || say "warning: the IPVS benchmarks did not run"
	say "IPVS mode in the QEMU VM: one endpoint change at ${KPROXY_BENCH_IPVS_SCALE:-10000} services, kproxy and ipvsadm (about 10 minutes)"
	if ! hack/vm/install.sh >"$out/vm-install.log" 2>&1; then
		say "warning: the IPVS VM is not available (see $out/vm-install.log)"
		return 0
	fi
	make -s binaries
	KPROXY_E2E=1 KPROXY_BIN_DIR="$bin" KPROXY_IPVS_SCALE="${KPROXY_BENCH_IPVS_SCALE:-10000}" KPROXY_BENCH_RESULTS="$results" \
		"$GO" test -count=1 -timeout 60m -run '^TestIPVSAtScale$' -v ./e2e/ipvs/ >"$out/ipvs-vm.log" 2>&1 ||
		say "warning: the IPVS VM measurement failed (see $out/ipvs-vm.log)"
	grep -h 'one endpoint change at' "$out/ipvs-vm.log" >&2 || true
}

# userspace_section measures the userspace mode: its Go benchmarks do the same
# work directly and through the proxy on loopback, alternately in one run, and
# report both and their ratio. Every metric becomes a results line
# "userspace.<Benchmark>.<unit> <value>" (hack/bench/kbench/userspace.go). The
# machine's load is printed before and after: the figures are wall-clock ones.
userspace_section() {
	say "userspace mode: proxied against direct connections on loopback (Go benchmarks, 3 runs)"
	say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	"$GO" test -run '^$' -bench 'Throughput|Latency|Connect|IdleMemory' -count 3 ./modes/userspace/ | tee "$out/userspace.txt"
	say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	awk '$1 ~ /^Benchmark/ {
		name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) if ($(i + 1) != "ns/op") print "userspace." name "." $(i + 1), $i
	}' "$out/userspace.txt" >>"$results"
}

if [ "$(id -u)" != 0 ]; then
	echo "hack/bench.sh: run as root (the kernel measurements create network namespaces)" >&2
	exit 1
fi
for cmd in "$GO" unshare ip iptables-nft-restore iptables-legacy-restore; do
	command -v "$cmd" >/dev/null || { echo "hack/bench.sh: $cmd not found (make deps installs it)" >&2; exit 1; }
done

say "building kproxy and kbench"
make -s build
CGO_ENABLED=0 "$GO" build -o "$bin/kbench" ./hack/bench/kbench
if [ ! -x "$bin/kcluster" ]; then
	say "building kcluster (make binaries; the first build takes minutes)"
	make -s binaries
fi

rm -rf "$out"
mkdir -p "$out"
results="$out/results.txt"
: >"$results"
kbench() { "$bin/kbench" "$@" | tee -a "$results"; }

if [ "$only" = ipvs ]; then
	ipvs_section
	"$bin/kbench" table "$results" "$out/gobench.txt" | tee "$out/RESULTS.md"
	exit 0
fi

say "Go benchmarks: rendering, proxy.Table"
"$GO" test -run '^$' -bench 'RenderFull$|RenderPartial$' -benchtime 20x -count 3 ./modes/iptables/ | tee "$out/gobench.txt"
"$GO" test -run '^$' -bench 'TableFullLoad$|TableOneEndpointChange$' -benchtime 10x -count 3 ./proxy/ | tee -a "$out/gobench.txt" ||
	say "warning: the proxy.Table benchmarks did not run"

userspace_section

say "full-sync payload"
"$bin/kbench" payload -o "$out/payload.txt"
say "payload: $(wc -c <"$out/payload.txt") bytes, $(grep -c '^-A' "$out/payload.txt") rules, $(grep -c '^:' "$out/payload.txt") chains"

say "full syncs, iptables-nft (3 runs, each in a new namespace)"
for _ in 1 2 3; do kbench full -variant nft; done
say "full syncs, iptables-legacy, and plain iptables-restore of the same payload (3 runs each)"
for _ in 1 2 3; do
	kbench full -variant legacy
	kbench restore -variant legacy "$out/payload.txt"
done
kbench restore -variant nft "$out/payload.txt"

say "one endpoint change at a time: 100 on iptables-nft, 10 on iptables-legacy"
kbench partial -variant nft -n 100
kbench partial -variant legacy -n 10

say "kproxy's memory: real control plane loaded with 10,000 Services and EndpointSlices (a few minutes)"
kbench rss -kcluster "$bin/kcluster" -kproxy "$bin/kproxy" -dir "$out/rss"

ipvs_section

say "done"
echo
"$bin/kbench" table "$results" "$out/gobench.txt" | tee "$out/RESULTS.md"
