#!/usr/bin/env bash
# hack/bench.sh (make bench): the figures behind README.md's "Performance" table,
# for iptables mode at 10,000 services × 10 endpoints. See hack/bench/README.md.
#
# Runs as root. Everything that touches iptables, links or the control plane runs
# in network namespaces the benchmark creates (kbench re-runs itself under
# "unshare --net" and checks it left the parent's namespace): the host's rules are
# never read or changed. Takes about 10 minutes on 2 cores.
#
# Results: _output/bench/results.txt (one "name value" line per measurement),
# _output/bench/gobench.txt (go test -bench output) and the table, printed and
# written to _output/bench/RESULTS.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/_output/bench"
bin="$root/_output/bin"
GO=${GO:-go}

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

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

say "Go benchmarks: rendering, proxy.Table"
"$GO" test -run '^$' -bench 'RenderFull$|RenderPartial$' -benchtime 20x -count 3 ./modes/iptables/ | tee "$out/gobench.txt"
"$GO" test -run '^$' -bench 'TableFullLoad$|TableOneEndpointChange$' -benchtime 10x -count 3 ./proxy/ | tee -a "$out/gobench.txt" ||
	say "warning: the proxy.Table benchmarks did not run"

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

say "done"
echo
"$bin/kbench" table "$results" "$out/gobench.txt" | tee "$out/RESULTS.md"
