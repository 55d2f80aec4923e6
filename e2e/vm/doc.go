// Package vm boots a throwaway Linux VM under QEMU (software emulation, no
// KVM) so kproxy can be tested against a kernel that has what the host's
// lacks, IPVS first of all.
//
// The guest runs Debian's stock kernel (extracted by hack/vm/install.sh into
// _output/vm) from an initramfs this package builds: a static busybox, the
// kernel modules kproxy's modes need (loaded at boot), Debian's iptables,
// ipset, ip and ipvsadm with their shared libraries, and whatever files the
// caller adds. /init sets the machine up, runs the caller's shell script and
// powers off; the script's output comes back over a second serial port.
//
// The guest has no network unless Config.HostForwards asks for it, and then
// only QEMU's user network in restricted mode: the guest can reach nothing
// but the listed forwards, each of which leads to a port on the host's
// 127.0.0.1.
package vm
