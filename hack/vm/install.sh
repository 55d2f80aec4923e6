#!/usr/bin/env bash
# install.sh prepares everything the e2e/vm harness needs to boot a Debian
# kernel under QEMU (TCG, no KVM):
#   - host tools: qemu-system-x86_64, a static busybox, depmod, xz/zstd,
#     and the iptables/ipset/ip binaries that are copied into the guest;
#   - the Debian kernel behind linux-image-amd64, extracted (vmlinuz and
#     /lib/modules, modules decompressed, modules.dep generated) into
#     _output/vm/linux;
#   - Debian's ipvsadm and the libraries it needs that the host lacks,
#     extracted into _output/vm/userland.
# Idempotent and cheap when everything is present: apt-get only runs for
# what is missing, `apt-get update` at most once, and the kernel is not
# downloaded again once extracted. Safe to run concurrently (flock).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${KPROXY_VM_DIR:-$ROOT/_output/vm}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

log() { echo "vm/install: $*" >&2; }

# apt_lists_empty is true when `apt-get update` never ran on this machine.
apt_lists_empty() {
	[ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$' || true)" ]
}

UPDATED=0
apt_update_once() {
	if [ "$UPDATED" -eq 0 ]; then
		$SUDO apt-get update
		UPDATED=1
	fi
}

# install_missing installs the packages whose marker command is missing.
# Each argument is "<command-or-/path> <debian package>".
install_missing() {
	local missing=() dep cmd pkg
	for dep in "$@"; do
		read -r cmd pkg <<<"$dep"
		if [[ "$cmd" == /* ]]; then
			[ -e "$cmd" ] && continue
		elif command -v "$cmd" >/dev/null 2>&1; then
			continue
		fi
		missing+=("$pkg")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	log "installing ${missing[*]}"
	if apt_lists_empty; then
		apt_update_once
	fi
	if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
		apt_update_once
		$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
	fi
}

# download fetches the named packages' .deb files into $OUT/debs.
download() {
	mkdir -p "$OUT/debs"
	if apt_lists_empty; then
		apt_update_once
	fi
	# As root, download directly instead of through the _apt sandbox user
	# (who may not be allowed to write into the checkout).
	local opts=()
	if [ "$(id -u)" -eq 0 ]; then
		opts=(-o APT::Sandbox::User=root)
	fi
	if ! (cd "$OUT/debs" && apt-get download "${opts[@]}" "$@"); then
		apt_update_once
		(cd "$OUT/debs" && apt-get download "${opts[@]}" "$@")
	fi
}

# deb_file prints the downloaded .deb of a package.
deb_file() {
	ls -1 "$OUT/debs/${1}_"*.deb | tail -n 1
}

# decompress_modules turns every .ko.xz / .ko.zst / .ko.gz under $1 into a
# plain .ko: the guest's busybox insmod does not read compressed modules.
decompress_modules() {
	find "$1" -name '*.ko.xz' -exec xz -d -f {} +
	find "$1" -name '*.ko.zst' -exec zstd -q -d --rm -f {} +
	find "$1" -name '*.ko.gz' -exec gzip -d -f {} +
}

# extract_vmlinux unpacks the ELF kernel inside a bzImage: QEMU boots it
# through its PVH entry point, which skips the real-mode setup and the
# decompression (seconds under TCG). Only a speed-up: without it the
# harness boots vmlinuz.
extract_vmlinux() {
	local image="$1" dst="$2" magic cmd off
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		cmd="${magic%%:*}"
		off="$(LC_ALL=C grep -obUaP "${magic#*:}" "$image" | head -n 1 | cut -d: -f1 || true)"
		[ -n "$off" ] || continue
		case "$cmd" in
		xz) tail -c "+$((off + 1))" "$image" | xz -dc --single-stream >"$dst.tmp" 2>/dev/null || true ;;
		zstd) tail -c "+$((off + 1))" "$image" | zstd -dcq >"$dst.tmp" 2>/dev/null || true ;;
		gzip) tail -c "+$((off + 1))" "$image" | gzip -dc >"$dst.tmp" 2>/dev/null || true ;;
		esac
		if [ "$(head -c 4 "$dst.tmp" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$dst.tmp" "$dst"
			return 0
		fi
	done
	rm -f "$dst.tmp"
	log "could not extract vmlinux from $image; booting the bzImage (slower)"
}

install_vmlinux() {
	local image
	for image in "$OUT"/linux/boot/vmlinuz-*; do
		[ -e "$image" ] || continue
		local dst="${image/vmlinuz-/vmlinux-}"
		[ -e "$dst" ] || extract_vmlinux "$image" "$dst"
	done
}

install_kernel() {
	if [ -e "$OUT/linux/.installed" ]; then
		return 0
	fi
	local meta pkg tmp release
	meta="$(apt-cache depends linux-image-amd64 2>/dev/null || true)"
	if [ -z "$meta" ]; then
		apt_update_once
		meta="$(apt-cache depends linux-image-amd64)"
	fi
	pkg="$(awk '/Depends: linux-image-[0-9]/ { print $2; exit }' <<<"$meta")"
	if [ -z "$pkg" ]; then
		log "cannot resolve the kernel package behind linux-image-amd64"
		exit 1
	fi
	log "fetching $pkg"
	download "$pkg"
	tmp="$OUT/linux.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb -x "$(deb_file "$pkg")" "$tmp"
	release="$(ls -1 "$tmp/lib/modules" | head -n 1)"
	decompress_modules "$tmp/lib/modules/$release"
	depmod -b "$tmp" "$release"
	echo "$pkg $release" >"$tmp/.installed"
	rm -rf "$OUT/linux"
	mv "$tmp" "$OUT/linux"
	log "kernel $release extracted to $OUT/linux"
}

# install_userland extracts ipvsadm plus the libraries it needs that the
# host does not have (the guest gets them copied by e2e/vm).
install_userland() {
	if [ -e "$OUT/userland/.installed" ]; then
		return 0
	fi
	local pkgs=(ipvsadm) dep tmp
	for dep in $(apt-cache depends ipvsadm | awk '/Depends: lib/ { print $2 }'); do
		[ "$dep" = libc6 ] && continue
		pkgs+=("$dep")
	done
	log "fetching ${pkgs[*]}"
	download "${pkgs[@]}"
	tmp="$OUT/userland.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for dep in "${pkgs[@]}"; do
		dpkg-deb -x "$(deb_file "$dep")" "$tmp"
	done
	echo "${pkgs[*]}" >"$tmp/.installed"
	rm -rf "$OUT/userland"
	mv "$tmp" "$OUT/userland"
}

main() {
	install_missing \
		"qemu-system-x86_64 qemu-system-x86" \
		"/usr/share/doc/busybox-static busybox-static" \
		"depmod kmod" \
		"xz xz-utils" \
		"zstd zstd" \
		"cpio cpio" \
		"iptables iptables" \
		"ipset ipset" \
		"ip iproute2"
	mkdir -p "$OUT"
	exec 9>"$OUT/.install.lock"
	flock 9
	install_kernel
	install_vmlinux
	install_userland
	log "ready: $(cat "$OUT/linux/.installed")"
}

main "$@"
