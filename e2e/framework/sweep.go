package framework

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Sweep removes what crashed or interrupted e2e runs left behind: namespaces
// and work directories whose name carries the Prefix and the pid of a
// process that no longer runs (their processes are killed first). Live runs,
// including other test binaries running now, are left alone. It returns the
// names it removed.
func Sweep() ([]string, error) {
	names, err := listNetns()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, name := range names {
		if !abandoned(name) {
			continue
		}
		if err := delNetns(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), Prefix+"*"))
	for _, dir := range dirs {
		if abandoned(filepath.Base(dir)) {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, dir)
		}
	}
	return removed, errors.Join(errs...)
}

// abandoned reports whether a framework name belongs to a process that is
// gone.
func abandoned(name string) bool {
	pid, ok := ownerPID(name)
	return ok && pid != os.Getpid() && !processAlive(pid)
}

// killNetnsPids kills every process inside the named namespace. They were
// all started there by the framework (or by what it started).
func killNetnsPids(ns string) {
	if !strings.HasPrefix(ns, Prefix) {
		return
	}
	for _, pid := range netnsPids(ns) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
