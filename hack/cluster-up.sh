#!/usr/bin/env bash
# cluster-up.sh starts the local control plane (hack/cluster, "kcluster") in
# the background and prints the admin kubeconfig path once the apiserver is
# ready. It (re)builds _output/bin/kcluster when it is missing or older than
# its sources, and does nothing but print the path when the cluster is
# already running.
#
# Arguments are passed to kcluster, e.g. --bind-address 10.200.0.1.
# Environment:
#   KCLUSTER_DATA_DIR  state directory (default _output/cluster)
#   KCLUSTER_NETNS     run inside this network namespace (ip netns exec)
#   KCLUSTER_TIMEOUT   seconds to wait for READY (default 180)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/_output/bin/kcluster"
DATA="${KCLUSTER_DATA_DIR:-$ROOT/_output/cluster}"
PIDFILE="$DATA/kcluster.pid"
LOG="$DATA/kcluster.log"
TIMEOUT="${KCLUSTER_TIMEOUT:-180}"

# running succeeds when the pid file names a live kcluster process.
running() {
	[ -f "$PIDFILE" ] || return 1
	local pid
	pid="$(cat "$PIDFILE")"
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q kcluster
}

# stale succeeds when the binary is missing or older than any source file.
stale() {
	[ -x "$BIN" ] || return 0
	[ -n "$(find "$ROOT/hack/cluster" -maxdepth 1 \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$BIN" -print -quit)" ]
}

# ready_line prints the READY line of the current log, if there is one.
ready_line() {
	grep -m1 '^READY ' "$LOG" 2>/dev/null || true
}

if stale; then
	mkdir -p "$ROOT/_output/bin"
	echo "cluster-up: building $BIN (the first build compiles kube-apiserver: many minutes; log: $ROOT/_output/bin/kcluster.build.log)"
	if ! (cd "$ROOT/hack/cluster" && go build -o "$BIN" .) >"$ROOT/_output/bin/kcluster.build.log" 2>&1; then
		cat "$ROOT/_output/bin/kcluster.build.log" >&2
		exit 1
	fi
fi

if running; then
	line="$(ready_line)"
	if [ -n "$line" ]; then
		echo "cluster-up: already running (pid $(cat "$PIDFILE"))"
		echo "${line#READY }"
		exit 0
	fi
	echo "cluster-up: kcluster (pid $(cat "$PIDFILE")) is running but not ready; see $LOG or run hack/cluster-down.sh" >&2
	exit 1
fi

mkdir -p "$DATA"
prefix=()
if [ -n "${KCLUSTER_NETNS:-}" ]; then
	prefix=(ip netns exec "$KCLUSTER_NETNS")
fi
# setsid: a Ctrl-C in the calling terminal must not stop the cluster.
setsid "${prefix[@]}" "$BIN" --data-dir "$DATA" "$@" >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"

start=$SECONDS
until [ -n "$(ready_line)" ]; do
	if ! running; then
		echo "cluster-up: kcluster exited; last log lines:" >&2
		tail -n 30 "$LOG" >&2
		rm -f "$PIDFILE"
		exit 1
	fi
	if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
		echo "cluster-up: not ready after ${TIMEOUT}s; see $LOG (hack/cluster-down.sh stops it)" >&2
		exit 1
	fi
	sleep 0.2
done
echo "cluster-up: ready after $((SECONDS - start))s (pid $(cat "$PIDFILE"), log $LOG)"
line="$(ready_line)"
echo "${line#READY }"
