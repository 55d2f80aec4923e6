package vm

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

//go:embed init.sh
var initScript []byte

// Guest paths /init reads its instructions from.
const (
	guestScript      = "/kproxy/script.sh"
	guestModuleOrder = "/etc/kproxy-vm/modules"
	guestAddress     = "/etc/kproxy-vm/address"
)

// imageSpec says what goes into a guest's initramfs.
type imageSpec struct {
	kernel   Kernel
	modules  []string // module names or globs, see DefaultModules
	userland string   // root of the extracted Debian packages (ipvsadm)
}

// baseTree lays out everything every guest of a kernel shares: busybox,
// /init, kernel modules and the Debian tools with their libraries.
func baseTree(spec imageSpec) (tree, error) {
	t := tree{}
	addSkeleton(t)
	libs := newLibResolver(spec.userland)
	names, err := addTools(t, libs, spec.userland)
	if err != nil {
		return nil, err
	}
	if err := addBusybox(t, libs, names); err != nil {
		return nil, err
	}
	if err := addModules(t, spec.kernel, spec.modules); err != nil {
		return nil, err
	}
	t.addData("/init", initScript, 0o755)
	return t, nil
}

// addSkeleton creates the directories and /etc files a shell session and
// glibc programs expect.
func addSkeleton(t tree) {
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp", "/root", "/usr/local/bin", "/var/lib"} {
		t.addDir(d, 0o755)
	}
	t.addLink("/var/run", "../run")
	t.addData("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	t.addData("/etc/group", []byte("root:x:0:\n"), 0o644)
	t.addData("/etc/hosts", []byte("127.0.0.1 localhost kproxy-vm\n::1 localhost\n"), 0o644)
	t.addData("/etc/nsswitch.conf", []byte("passwd: files\ngroup: files\nhosts: files\nprotocols: files\nservices: files\n"), 0o644)
	for _, f := range []string{"/etc/protocols", "/etc/services", "/etc/ethertypes"} {
		if _, err := os.Stat(f); err == nil {
			t.addFile(f, f, 0o644)
		}
	}
}

// addModules copies the wanted kernel modules and their dependencies, the
// order /init loads them in, and a modules.dep covering them so that
// busybox modprobe works too.
func addModules(t tree, k Kernel, wanted []string) error {
	db, err := loadModuleDB(k.Modules)
	if err != nil {
		return err
	}
	order, err := db.resolve(wanted)
	if err != nil {
		return err
	}
	dir := path.Join("/lib/modules", k.Release)
	var load, dep bytes.Buffer
	for _, name := range order {
		rel := db.paths[name]
		t.addFile(path.Join(dir, rel), filepath.Join(k.Modules, rel), 0o644)
		fmt.Fprintln(&load, path.Join(dir, rel))
		fmt.Fprintf(&dep, "%s:", rel)
		for _, d := range db.deps[name] {
			fmt.Fprintf(&dep, " %s", db.paths[d])
		}
		dep.WriteByte('\n')
	}
	t.addData(guestModuleOrder, load.Bytes(), 0o644)
	t.addData(path.Join(dir, "modules.dep"), dep.Bytes(), 0o644)
	for _, f := range []string{"modules.builtin", "modules.builtin.modinfo", "modules.order"} {
		if _, err := os.Stat(filepath.Join(k.Modules, f)); err == nil {
			t.addFile(path.Join(dir, f), filepath.Join(k.Modules, f), 0o644)
		}
	}
	return nil
}
