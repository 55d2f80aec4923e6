package vm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unpack writes the members of a newc archive under dir.
func unpack(t *testing.T, archive []byte, dir string) {
	t.Helper()
	for _, m := range readCPIO(t, archive) {
		p := filepath.Join(dir, m.name)
		var err error
		switch m.mode & 0o170000 {
		case 0o040000:
			err = os.MkdirAll(p, 0o755)
		case 0o120000:
			err = os.Symlink(m.body, p)
		default:
			err = os.WriteFile(p, []byte(m.body), os.FileMode(m.mode&0o777))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBaseImageToolsLoad unpacks the shared initramfs and asks the guest's
// own dynamic loader, chrooted there, whether every Debian tool finds all
// its libraries: a quick check that needs no VM.
func TestBaseImageToolsLoad(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("no VM image inputs: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for chroot")
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	k, err := FindKernel(dir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := baseTree(imageSpec{kernel: k, modules: DefaultModules, userland: filepath.Join(dir, "userland")})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeCPIO(&buf, base); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	unpack(t, buf.Bytes(), root)

	progs := []string{"/bin/sh", "/usr/sbin/iptables-nft", "/usr/sbin/iptables-legacy", "/usr/sbin/ipset",
		"/usr/sbin/ip", "/usr/sbin/ipvsadm", xtablesDir + "/libxt_set.so", xtablesDir + "/libxt_comment.so"}
	for _, p := range progs {
		out, err := exec.Command("chroot", root, "/lib64/ld-linux-x86-64.so.2", "--list", p).CombinedOutput()
		if err != nil || strings.Contains(string(out), "not found") {
			t.Errorf("in the guest image, %s does not link: %v\n%s", p, err, out)
		}
	}
	for _, p := range []string{"/init", "/bin/busybox", "/sbin/insmod", "/sbin/poweroff", guestModuleOrder,
		"/lib/modules/" + k.Release + "/modules.dep"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
			t.Errorf("guest image lacks %s", p)
		}
	}
}
