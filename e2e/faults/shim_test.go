package faultse2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// restoreCommands are the iptables-restore commands kproxy may run, whatever
// variant and family it picks.
var restoreCommands = []string{
	"iptables-restore", "iptables-nft-restore", "iptables-legacy-restore",
	"ip6tables-restore", "ip6tables-nft-restore", "ip6tables-legacy-restore",
}

// restoreShim is a directory of wrappers around the iptables-restore
// commands, to put first in kproxy's PATH: each fails (exit status 1, after
// reading its input) while the marker file exists and otherwise runs the
// real command.
type restoreShim struct {
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

// newRestoreShim writes the wrappers under dir for every restore command the
// host has.
func newRestoreShim(t *testing.T, dir string) *restoreShim {
	t.Helper()
	s := &restoreShim{dir: dir, marker: filepath.Join(dir, "fail")}
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

// env returns kproxy's PATH with the wrappers first.
func (s *restoreShim) env() []string {
	return []string{"PATH=" + s.dir + ":" + os.Getenv("PATH")}
}

// fail makes every restore fail until heal.
func (s *restoreShim) fail(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(s.marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// heal lets restores through again.
func (s *restoreShim) heal(t *testing.T) {
	t.Helper()
	if err := os.Remove(s.marker); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreShim runs without root: the wrapper passes input through to
// the real command, or fails without running it while the marker exists.
func TestRestoreShim(t *testing.T) {
	dir := t.TempDir()
	realDir := t.TempDir()
	// A stand-in "real" command that echoes its input and arguments.
	real := filepath.Join(realDir, "iptables-nft-restore")
	if err := os.WriteFile(real, []byte("#!/bin/sh\necho \"real $*\"\ncat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", realDir+":"+os.Getenv("PATH"))
	s := newRestoreShim(t, dir)
	run := func() (string, error) {
		cmd := exec.Command(filepath.Join(dir, "iptables-nft-restore"), "-w", "5", "--noflush")
		cmd.Stdin = strings.NewReader("*nat\nCOMMIT\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(); err != nil || out != "real -w 5 --noflush\n*nat\nCOMMIT\n" {
		t.Errorf("healthy: %q, %v", out, err)
	}
	s.fail(t)
	if out, err := run(); err == nil || !strings.Contains(out, "injected failure of iptables-nft-restore") {
		t.Errorf("failing: %q, %v", out, err)
	}
	s.heal(t)
	if _, err := run(); err != nil {
		t.Errorf("healed: %v", err)
	}
}
