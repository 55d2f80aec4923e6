#!/usr/bin/env bash
# install-deps.sh installs the host tools kproxy's tests and demo need.
# Idempotent: it only calls apt-get for commands that are missing, and runs
# `apt-get update` at most once. To add a dependency, add a
# "<command> <debian package>" line to DEPS.
set -euo pipefail

DEPS=(
	"iptables iptables"
	"ipset ipset"
	"conntrack conntrack"
	"ip iproute2"
)

missing=()
for dep in "${DEPS[@]}"; do
	read -r cmd pkg <<<"$dep"
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing+=("$pkg")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

# Update the package lists only when none were ever fetched; a failed
# install below retries once after a fresh update.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
	$SUDO apt-get update
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
