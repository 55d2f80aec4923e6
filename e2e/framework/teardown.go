package framework

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Grace periods for stopping processes at teardown. The control plane gets
// none: its data is thrown away, and its graceful shutdown takes a second.
const (
	stopGraceKProxy    = 3 * time.Second
	stopGraceKCluster  = 0
	stopGraceWorkloads = time.Second
)

// teardown stops every process and deletes every namespace and the work
// directory. With KPROXY_E2E_KEEP=1 a failed test's cluster is kept.
func (c *Cluster) teardown() {
	c.teardownMu.Lock()
	defer c.teardownMu.Unlock()
	if c.tornDown {
		return
	}
	c.tornDown = true
	c.stopSignals()
	t := c.t
	if t.Failed() {
		c.printLogs()
		c.printNetworkState()
	}
	if t.Failed() && os.Getenv(EnvKeep) == "1" {
		t.Logf("e2e: %s=1: keeping cluster %s (work dir %s); the next run's sweep removes it", EnvKeep, c.Prefix, c.WorkDir)
		return
	}
	start := time.Now()
	var errs []error
	c.mu.Lock()
	procs := append([]*Process(nil), c.procs...)
	c.mu.Unlock()
	// kproxy first, the control plane last: nobody logs a lost apiserver.
	for _, p := range procs {
		if strings.HasPrefix(p.Name, "kproxy") {
			errs = append(errs, p.Stop(stopGraceKProxy))
		}
	}
	for _, p := range procs {
		switch {
		case strings.HasPrefix(p.Name, "kcluster"):
			errs = append(errs, p.Stop(stopGraceKCluster))
		default:
			errs = append(errs, p.Stop(stopGraceWorkloads))
		}
	}
	errs = append(errs, c.deleteNamespaces()...)
	if c.WorkDir != "" {
		errs = append(errs, os.RemoveAll(c.WorkDir))
	}
	if err := errors.Join(errs...); err != nil {
		t.Errorf("e2e: teardown of %s: %v", c.Prefix, err)
	}
	t.Logf("e2e: cluster %s torn down in %v", c.Prefix, time.Since(start).Round(time.Millisecond))
}

// deleteNamespaces deletes every namespace carrying the cluster's prefix,
// including ones a failed build left half made.
func (c *Cluster) deleteNamespaces() []error {
	names, err := listNetns()
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, name := range names {
		if strings.HasPrefix(name, c.Prefix) {
			errs = append(errs, delNetns(name))
		}
	}
	return errs
}

// printLogs writes the tail of every process's log to standard error, not to
// the test log: go test (without -v) prints a failed test's own messages
// after what it wrote there, so the reason for the failure comes last, where
// CI's excerpt of the output shows it, instead of being buried under logs.
func (c *Cluster) printLogs() {
	c.mu.Lock()
	procs := append([]*Process(nil), c.procs...)
	c.mu.Unlock()
	for _, p := range procs {
		lines := 400 // kproxy: all of a short test's log
		switch {
		case strings.HasPrefix(p.Name, "kcluster"):
			lines = 60
		case strings.HasPrefix(p.Name, "pod "):
			lines = 5
		}
		fmt.Fprintf(os.Stderr, "e2e: %s: ---- log of %s (%s, last %d lines) ----\n%s\n", c.t.Name(), p.Name, p.LogPath, lines, p.LogTail(lines))
	}
}
