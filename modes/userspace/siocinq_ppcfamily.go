//go:build linux && (ppc64 || ppc64le)

package userspace

// siocinq is SIOCINQ (FIONREAD), which package syscall lacks.
const siocinq = 0x4004667f
