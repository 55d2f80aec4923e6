#!/usr/bin/env bash
# demo.sh runs kproxy's demo (`make demo`): a local control plane and two
# nodes running kproxy in iptables mode, all in network namespaces, three
# Services with real traffic, then the rules, metrics and state kproxy shows.
# The demo program is e2e/demo; it removes everything it made on exit, also
# on failure and on Ctrl-C, and exits non-zero when traffic does not flow.
#
# Run by hand, it first installs the host tools and builds the binaries
# (make does both before calling it). Arguments go to the demo program
# (-v prints the e2e framework's log lines).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/_output/bin"
GO="${GO:-go}"
cd "$ROOT"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root to create network namespaces; run: sudo make demo" >&2
	exit 1
fi

cat <<'EOF'
kproxy demo: building, then about 10 seconds of demo.
  Build: kproxy, the pods' echo server, kcluster (a real kube-apiserver + etcd) and the demo
  program. The first build of kcluster compiles kube-apiserver: about 6 minutes on 2 cores;
  later builds come from Go's cache and take seconds.
EOF

# Under make, the demo target's prerequisites did this already.
hack/install-deps.sh
make --no-print-directory -C "$ROOT" binaries

echo "demo: building the demo program (e2e/demo)"
CGO_ENABLED=0 "$GO" build -o "$BIN/kproxy-demo" ./e2e/demo

export KPROXY_BIN_DIR="$BIN"
exec "$BIN/kproxy-demo" "$@"
