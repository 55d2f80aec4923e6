//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !ppc64 && !ppc64le

package userspace

// siocinq is SIOCINQ (FIONREAD), which package syscall lacks.
const siocinq = 0x541b
