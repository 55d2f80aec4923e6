package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// restoreCommands are the iptables-restore commands kproxy may run, whatever
// variant and family it picks.
var restoreCommands = []string{
	"iptables-restore", "iptables-nft-restore", "iptables-legacy-restore",
	"ip6tables-restore", "ip6tables-nft-restore", "ip6tables-legacy-restore",
}

// RestoreShim is a directory of wrappers around the iptables-restore
// commands, to put first in kproxy's PATH (KProxyOptions.Env): each fails
// (exit status 1, after reading its input, saying "injected failure of
// <command>") while the marker file exists and otherwise runs the real
// command. Every mode that applies rules with iptables-restore can be made
// to fail with it.
type RestoreShim struct {
	dir    string
	marker string
}

// shimScript is a wrapper; the verbs are the marker's and the real command's
// paths.
const shimScript = `#!/bin/sh
# kproxy e2e: iptables-restore that fails while %[1]s exists.
if [ -e '%[1]s' ]; then
	cat >/dev/null
	echo "kpe2e: injected failure of $(basename "$0")" >&2
	exit 1
fi
exec '%[2]s' "$@"
`

// NewRestoreShim writes the wrappers under dir for every restore command the
// host has.
func NewRestoreShim(t testing.TB, dir string) *RestoreShim {
	t.Helper()
	s := &RestoreShim{dir: dir, marker: filepath.Join(dir, "fail")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range restoreCommands {
		real, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		script := fmt.Sprintf(shimScript, s.marker, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Env returns kproxy's PATH with the wrappers first.
func (s *RestoreShim) Env() []string {
	return []string{"PATH=" + s.dir + ":" + os.Getenv("PATH")}
}

// Fail makes every restore fail until Heal.
func (s *RestoreShim) Fail(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(s.marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Heal lets restores through again.
func (s *RestoreShim) Heal(t testing.TB) {
	t.Helper()
	if err := os.Remove(s.marker); err != nil {
		t.Fatal(err)
	}
}
