package vm

import (
	"strconv"
	"strings"
)

// kernelCmdline is what the guest kernel boots with: console on the first
// serial port, no chatter, and a reboot (which -no-reboot turns into QEMU
// exiting) right after a panic. RDRAND is trusted so the entropy pool is
// ready at once for Go programs.
// The rest trims boot time: no crypto self-tests, no TSC and timer sanity
// checks, two serial ports probed instead of four.
var kernelCmdline = []string{
	"console=ttyS0", "quiet", "panic=-1", "random.trust_cpu=on", "mitigations=off",
	"cryptomgr.notests", "tsc=reliable", "no_timer_check", "8250.nr_uarts=2",
}

// qemuFiles are the host files a VM is made of.
type qemuFiles struct {
	kernel, initrd  string
	firmware        string // BIOS image, or "" for QEMU's default
	console, output string // serial ports 0 (console) and 1 (script output)
}

// qemuArgs returns the QEMU command line: software emulation (TCG), no
// default devices, no display or monitor, the two serial ports on files,
// and either no network at all or the restricted user network.
func qemuArgs(c Config, f qemuFiles, fwds []forward) []string {
	args := []string{
		"-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
		"-machine", "q35", "-accel", "tcg", "-cpu", "max",
		"-m", c.Memory, "-smp", strconv.Itoa(c.CPUs),
		"-display", "none", "-monitor", "none",
		"-serial", "file:" + f.console,
		"-serial", "file:" + f.output,
		"-kernel", f.kernel, "-initrd", f.initrd,
		"-append", strings.Join(kernelCmdline, " "),
	}
	if f.firmware != "" {
		args = append(args, "-bios", f.firmware)
	}
	if len(fwds) == 0 {
		return append(args, "-nic", "none")
	}
	return append(args,
		"-netdev", netdevArg(fwds),
		"-device", "virtio-net-pci,netdev=net0,romfile=")
}
