package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// parentNetnsEnv holds the network namespace of the process that re-ran the
// measurement in a new one.
const parentNetnsEnv = "KBENCH_PARENT_NETNS"

// inNetns runs a kernel subcommand in a network namespace of its own: outside one
// it re-runs itself under "unshare --net" (the namespace goes away with the
// process); inside, it checks that it is not in the first process's namespace and
// runs the measurement.
func inNetns(cmd string, args []string) error {
	parent := os.Getenv(parentNetnsEnv)
	if parent == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		ns, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			return err
		}
		c := exec.Command("unshare", append([]string{"--net", "--", self, cmd}, args...)...)
		c.Env = append(os.Environ(), parentNetnsEnv+"="+ns)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("in a new network namespace: %w", err)
		}
		return nil
	}
	if err := checkOwnNetns(parent); err != nil {
		return err
	}
	switch cmd {
	case "full":
		return runFull(args)
	case "restore":
		return runRestore(args)
	case "partial":
		return runPartial(args)
	case "rss":
		return runRSS(args)
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// checkOwnNetns fails unless this process's network namespace differs from the
// parent's: unshare made a new one.
func checkOwnNetns(parent string) error {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if self == parent {
		return errors.New("refusing to run in the namespace of the parent process")
	}
	return nil
}
