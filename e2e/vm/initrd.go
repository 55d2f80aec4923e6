package vm

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// buildInitrd writes the initrd of the VM c describes to dst: the cached
// archive shared by every VM of the kernel, then the VM's own files.
func buildInitrd(c Config, fwds []forward, dst string) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	userland := filepath.Join(dir, "userland")
	base, err := baseTree(imageSpec{
		kernel:   c.Kernel,
		modules:  append(append([]string(nil), DefaultModules...), c.Modules...),
		userland: userland,
	})
	if err != nil {
		return err
	}
	archive, err := cachedArchive(base, filepath.Join(dir, "cache"))
	if err != nil {
		return err
	}
	extra, err := extraTree(c, fwds, base, userland)
	if err != nil {
		return err
	}
	return writeInitrd(dst, archive, extra)
}

// extraTree holds what only this VM has: the script, the network address
// when there is a network, and the caller's files with any libraries they
// need that the base archive lacks.
func extraTree(c Config, fwds []forward, base tree, userland string) (tree, error) {
	t := tree{}
	t.addData(guestScript, []byte(c.Script), 0o755)
	if len(fwds) > 0 {
		t.addData(guestAddress, []byte(guestAddr.String()+"\n"), 0o644)
	}
	var elves []string
	for guest, host := range c.Files {
		st, err := os.Stat(host)
		if err != nil {
			return nil, fmt.Errorf("file for the guest's %s: %w", guest, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("file for the guest's %s: %s is not a regular file", guest, host)
		}
		t.addFile(guest, host, st.Mode().Perm())
		elves = append(elves, host)
	}
	libs := tree{}
	if err := newLibResolver(userland).addLibraries(libs, elves...); err != nil {
		return nil, err
	}
	for p, e := range libs {
		if _, ok := base[p]; !ok {
			t[p] = e
		}
	}
	return t, nil
}

// writeInitrd writes the guest's initrd to dst: the shared base archive
// followed by a second archive with the VM's own files (the kernel unpacks
// concatenated archives in order, later files replacing earlier ones).
func writeInitrd(dst, base string, extra tree) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	in, err := os.Open(base)
	if err != nil {
		out.Close()
		return err
	}
	_, err = io.Copy(out, in)
	in.Close()
	if err == nil {
		err = writeCPIO(out, extra)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
