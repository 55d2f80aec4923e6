package framework

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// command runs argv and returns its standard output; the error carries the
// command line and its standard error.
func command(argv ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// ipBatch runs `ip` commands (without the leading "ip") in one process inside
// the named namespace; it stops at the first failing line.
func ipBatch(ns string, lines ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip -n %s -batch: %w: %s\ncommands:\n%s", ns, err, strings.TrimSpace(stderr.String()), strings.Join(lines, "\n"))
	}
	return nil
}

// addNetns creates a named network namespace with its loopback up.
func addNetns(name string) error {
	if _, err := command("ip", "netns", "add", name); err != nil {
		return err
	}
	return ipBatch(name, "link set lo up")
}

// delNetns kills every process left in the namespace, then deletes it.
func delNetns(name string) error {
	killNetnsPids(name)
	_, err := command("ip", "netns", "delete", name)
	return err
}

// netnsPids lists the processes running in the named namespace.
func netnsPids(name string) []int {
	out, err := command("ip", "netns", "pids", name)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// listNetns returns the names of all named network namespaces.
func listNetns() ([]string, error) {
	out, err := command("ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}
