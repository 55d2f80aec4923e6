package framework

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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
	s := NewRestoreShim(t, dir)
	run := func() (string, error) {
		cmd := exec.Command(filepath.Join(dir, "iptables-nft-restore"), "-w", "5", "--noflush")
		cmd.Stdin = strings.NewReader("*nat\nCOMMIT\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(); err != nil || out != "real -w 5 --noflush\n*nat\nCOMMIT\n" {
		t.Errorf("healthy: %q, %v", out, err)
	}
	s.Fail(t)
	if out, err := run(); err == nil || !strings.Contains(out, "injected failure of iptables-nft-restore") {
		t.Errorf("failing: %q, %v", out, err)
	}
	s.Heal(t)
	if _, err := run(); err != nil {
		t.Errorf("healed: %v", err)
	}
}
