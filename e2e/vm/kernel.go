package vm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Kernel is a kernel image plus the modules built for it.
type Kernel struct {
	Image   string // vmlinux (booted through PVH) or bzImage (vmlinuz) to boot
	Modules string // the lib/modules/<Release> directory, with modules.dep
	Release string // uname -r of the kernel
}

// Paths of the host tools the harness runs or copies into the guest.
const (
	qemuBinary    = "qemu-system-x86_64"
	busyboxBinary = "/bin/busybox"
	// qbootFirmware is a minimal BIOS that jumps straight to the kernel;
	// QEMU's default SeaBIOS takes about a second more under TCG.
	qbootFirmware = "/usr/share/qemu/qboot.rom"
)

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Dir returns the directory hack/vm/install.sh fills: $KPROXY_VM_DIR, or
// _output/vm at the root of the kproxy checkout holding the working
// directory.
func Dir() (string, error) {
	if d := os.Getenv("KPROXY_VM_DIR"); d != "" {
		return d, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "_output", "vm"), nil
}

// moduleRoot finds the root of the kproxy checkout from the working
// directory up.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/kproxy/kproxy\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("not inside the kproxy checkout; set KPROXY_VM_DIR")
		}
	}
}

// FindKernel returns the kernel extracted under dir/linux by install.sh.
func FindKernel(dir string) (Kernel, error) {
	root := filepath.Join(dir, "linux")
	if _, err := os.Stat(filepath.Join(root, ".installed")); err != nil {
		return Kernel{}, fmt.Errorf("no kernel in %s (run hack/vm/install.sh): %w", root, err)
	}
	images, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(images) != 1 {
		return Kernel{}, fmt.Errorf("want one vmlinuz-* in %s/boot, found %d", root, len(images))
	}
	release := strings.TrimPrefix(filepath.Base(images[0]), "vmlinuz-")
	image := images[0]
	// The ELF kernel install.sh unpacks boots seconds faster under TCG.
	if elf := filepath.Join(root, "boot", "vmlinux-"+release); fileExists(elf) {
		image = elf
	}
	k := Kernel{
		Image:   image,
		Modules: filepath.Join(root, "lib", "modules", release),
		Release: release,
	}
	if _, err := os.Stat(filepath.Join(k.Modules, "modules.dep")); err != nil {
		return Kernel{}, fmt.Errorf("kernel %s has no modules.dep: %w", release, err)
	}
	return k, nil
}

// Available reports why VMs cannot boot on this machine, or nil when QEMU,
// busybox and an extracted kernel are all there. Tests skip on an error.
func Available() error {
	if _, err := exec.LookPath(qemuBinary); err != nil {
		return fmt.Errorf("%s missing (run hack/vm/install.sh): %w", qemuBinary, err)
	}
	if _, err := os.Stat(busyboxBinary); err != nil {
		return fmt.Errorf("static busybox missing (run hack/vm/install.sh): %w", err)
	}
	dir, err := Dir()
	if err != nil {
		return err
	}
	_, err = FindKernel(dir)
	return err
}
