package main

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/netns"
)

// cleanupReport is what the demo had running, recorded after each step and
// just before the framework's teardown, to check afterwards that all of it
// is gone. (On Ctrl-C the framework's own signal handler may start the
// teardown before the last record.)
type cleanupReport struct {
	mu         sync.Mutex // the body records while a signal's cleanup may too
	started    bool
	start      time.Time
	namespaces map[string]bool
	procs      map[int]string // pid → command name
}

// record adds the demo's current namespaces and their processes.
func (r *cleanupReport) record() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.namespaces == nil {
		r.namespaces, r.procs = map[string]bool{}, map[int]string{}
	}
	names, _ := ownNamespaces()
	for _, ns := range names {
		r.namespaces[ns] = true
		for _, pid := range namespacePids(ns) {
			// Only the programs the framework started, not their children
			// (kproxy's iptables-restore); "ip" is `ip netns exec` about to
			// become the program: a later record, or removeLeftovers,
			// catches it.
			if name := commandName(pid); name != "" && name != "ip" && parentPid(pid) == os.Getpid() {
				r.procs[pid] = name
			}
		}
	}
}

// beginCleanup starts the cleanup section and records what runs. It runs
// just before the teardown.
func (d *demo) beginCleanup() {
	d.p.loud().Section(steps, steps, "Cleanup")
	if d.t.Failed() {
		d.p.loud().Linef("the demo failed: the processes' logs follow (marked |), then the cleanup")
	}
	d.clean.mu.Lock()
	d.clean.started, d.clean.start = true, time.Now()
	d.clean.mu.Unlock()
	d.clean.record()
}

// verifyCleanup runs after the teardown: it removes what a step still in
// progress may have made during an interrupted teardown, checks that no
// namespace, work directory or process of the demo is left, and says what
// was removed.
func (d *demo) verifyCleanup() {
	p := d.p.loud()
	d.clean.mu.Lock()
	defer d.clean.mu.Unlock()
	if !d.clean.started {
		p.Section(steps, steps, "Cleanup")
		d.clean.start = time.Now()
	}
	if late := removeLeftovers(); len(late) > 0 {
		p.Linef("removed what a step in progress made during the teardown: %s", strings.Join(late, ", "))
	}
	var left []string
	names, err := ownNamespaces()
	if err != nil {
		left = append(left, err.Error())
	}
	for _, ns := range names {
		left = append(left, "namespace "+ns)
	}
	for _, dir := range ownDirs() {
		left = append(left, "directory "+dir)
	}
	for pid, name := range d.clean.procs {
		if commandName(pid) == name {
			left = append(left, fmt.Sprintf("process %d (%s)", pid, name))
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		p.Linef("FAIL: left behind: %s", strings.Join(left, ", "))
		p.Linef("(the next `make demo` or e2e test removes them; e2e/README.md shows how by hand)")
		d.t.Fail()
		return
	}
	if len(d.clean.namespaces) == 0 {
		p.Linef("nothing left")
		return
	}
	p.Linef("stopped %d processes (%s), deleted %d network namespaces and the work directory in %s; nothing left",
		len(d.clean.procs), countNames(d.clean.procs), len(d.clean.namespaces), round(time.Since(d.clean.start)))
}

// removeLeftovers kills the processes in this process's remaining
// namespaces, deletes the namespaces and work directories, and returns
// their names.
func removeLeftovers() []string {
	var removed []string
	names, _ := ownNamespaces()
	for _, ns := range names {
		for _, pid := range namespacePids(ns) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if exec.Command("ip", "netns", "delete", ns).Run() == nil {
			removed = append(removed, "namespace "+ns)
		}
	}
	for _, dir := range ownDirs() {
		if os.RemoveAll(dir) == nil {
			removed = append(removed, "directory "+dir)
		}
	}
	return removed
}

// ownDirs lists this process's work directories.
func ownDirs() []string {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), ownPrefix()+"*"))
	return dirs
}

// ownPrefix starts the names of this process's namespaces and directories.
func ownPrefix() string {
	return framework.Prefix + strconv.Itoa(os.Getpid()) + "-"
}

// ownNamespaces lists this process's network namespaces.
func ownNamespaces() ([]string, error) {
	entries, err := os.ReadDir(netns.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ownPrefix()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// namespacePids lists the processes in a namespace (`ip netns pids`).
func namespacePids(ns string) []int {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// commandName is a process's command name, or "" when it is gone.
func commandName(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// parentPid is a process's parent, or 0 when it is gone.
func parentPid(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// "<pid> (<comm>) <state> <ppid> ...": comm may hold spaces and parentheses.
	_, rest, ok := cutLast(string(b), ")")
	if !ok {
		return 0
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// cutLast cuts s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// countNames summarises processes by name: "10 echo, 1 kcluster, 2 kproxy".
func countNames(procs map[int]string) string {
	counts := map[string]int{}
	for _, name := range procs {
		counts[name]++
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[name], name))
	}
	return strings.Join(parts, ", ")
}
