package vm

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// guestLibDir is where the guest's dynamic loader finds shared libraries.
const guestLibDir = "/lib/x86_64-linux-gnu"

// libResolver finds the shared libraries ELF programs need on the host.
type libResolver struct {
	dirs []string // host directories searched for a DT_NEEDED name, in order
}

// newLibResolver searches the host's multiarch library directories, then
// those under each of the extra roots (such as _output/vm/userland).
func newLibResolver(extraRoots ...string) libResolver {
	r := libResolver{dirs: []string{
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	}}
	for _, root := range extraRoots {
		r.dirs = append(r.dirs,
			filepath.Join(root, "lib/x86_64-linux-gnu"),
			filepath.Join(root, "usr/lib/x86_64-linux-gnu"))
	}
	return r
}

// addLibraries adds to t, under guest paths the loader searches, every
// shared library and the dynamic loader that the ELF files need,
// transitively. Files that are not ELF, or are static, add nothing.
func (r libResolver) addLibraries(t tree, files ...string) error {
	done := map[string]bool{}
	queue := append([]string(nil), files...)
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		interp, needed, err := elfNeeds(file)
		if err != nil {
			return err
		}
		if interp != "" && !done[interp] {
			done[interp] = true
			t.addFile(interp, interp, 0o755)
		}
		for _, lib := range needed {
			if done[lib] {
				continue
			}
			done[lib] = true
			host, err := r.find(lib)
			if err != nil {
				return fmt.Errorf("%s needs %s: %w", file, lib, err)
			}
			t.addFile(filepath.Join(guestLibDir, lib), host, 0o755)
			queue = append(queue, host)
		}
	}
	return nil
}

// find returns the host path of a shared library.
func (r libResolver) find(lib string) (string, error) {
	for _, d := range r.dirs {
		p := filepath.Join(d, lib)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %v", r.dirs)
}

// elfNeeds returns the program interpreter and the DT_NEEDED libraries of
// an ELF file, or nothing when the file is not ELF.
func elfNeeds(file string) (interp string, needed []string, err error) {
	f, err := elf.Open(file)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", nil, nil
		}
		return "", nil, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", nil, fmt.Errorf("%s: reading PT_INTERP: %w", file, err)
		}
		interp = strings.TrimRight(string(b), "\x00")
	}
	needed, err = f.ImportedLibraries()
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", file, err)
	}
	sort.Strings(needed)
	return interp, needed, nil
}
