#!/usr/bin/env bash
# cluster-down.sh stops the control plane started by cluster-up.sh and
# removes its data directory (credentials, etcd data, kubeconfig, log).
# Set KCLUSTER_KEEP_DATA=1 to keep the directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${KCLUSTER_DATA_DIR:-$ROOT/_output/cluster}"
PIDFILE="$DATA/kcluster.pid"

if [ -f "$PIDFILE" ]; then
	pid="$(cat "$PIDFILE")"
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q kcluster; then
		kill -TERM "$pid"
		for _ in $(seq 1 150); do
			[ -d "/proc/$pid" ] || break
			sleep 0.2
		done
		if [ -d "/proc/$pid" ]; then
			echo "cluster-down: pid $pid ignored SIGTERM for 30s, killing it" >&2
			kill -KILL "$pid" || true
		fi
		echo "cluster-down: stopped pid $pid"
	fi
	rm -f "$PIDFILE"
fi

if [ "${KCLUSTER_KEEP_DATA:-0}" = 1 ]; then
	exit 0
fi
case "$(cd "$DATA" 2>/dev/null && pwd || echo "$DATA")" in
"" | / | "$ROOT" | "$HOME")
	echo "cluster-down: refusing to remove $DATA" >&2
	exit 1
	;;
esac
rm -rf "$DATA"
echo "cluster-down: removed $DATA"
