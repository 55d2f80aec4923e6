package framework

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
)

// Prefix starts the name of every namespace and work directory the framework
// creates: "kpe2e-<pid>-<random>-".
const Prefix = "kpe2e-"

// newRunPrefix returns a fresh "kpe2e-<pid>-<4 hex digits>-" for one cluster.
func newRunPrefix() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return Prefix + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b) + "-"
}

// ownerPID returns the pid embedded in a framework name, or false if name
// was not made by newRunPrefix.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// processAlive reports whether pid names a running process.
func processAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
