package ipset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTool writes a shell script standing in for the ipset binary: it records its
// arguments and standard input, prints out and exits with code.
func fakeTool(t *testing.T, out string, code int) (path, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "record")
	script := "#!/bin/sh\necho \"$@\" > " + record + "\ncat >> " + record + "\nprintf '%s' '" + out + "'\n"
	if code != 0 {
		script += "echo 'ipset v7.19: Error in line 2: The set with the given name does not exist' >&2\nexit " + string(rune('0'+code)) + "\n"
	}
	path = filepath.Join(dir, "ipset")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, record
}

func TestRunnerApply(t *testing.T) {
	path, record := fakeTool(t, "", 0)
	r := &Runner{Path: path}
	var b Batch
	b.Create(Set{Name: "KUBE-NODE-PORT-TCP", Type: BitmapPort})
	b.Add("KUBE-NODE-PORT-TCP", "30080")
	if err := r.Apply(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(record)
	want := "restore -exist\ncreate KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 30080\n"
	if string(got) != want {
		t.Errorf("ran:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunnerEmptyBatchRunsNothing(t *testing.T) {
	r := &Runner{Path: filepath.Join(t.TempDir(), "missing")}
	if err := r.Apply(context.Background(), &Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestRunnerError(t *testing.T) {
	path, _ := fakeTool(t, "", 1)
	var b Batch
	b.Add("NOPE", "1")
	err := (&Runner{Path: path}).Apply(context.Background(), &b)
	var ie *Error
	if !errors.As(err, &ie) || !strings.Contains(ie.Output, "Error in line 2") {
		t.Errorf("Apply error = %v, want an *Error with the tool's output", err)
	}
}

func TestRunnerListAndVersion(t *testing.T) {
	path, _ := fakeTool(t, "create A hash:ip family inet hashsize 1024 maxelem 65536\nadd A 10.0.0.1\n", 0)
	sets, err := (&Runner{Path: path}).List(context.Background())
	if err != nil || len(sets) != 1 || sets[0].Entries[0] != "10.0.0.1" {
		t.Errorf("List = %+v, %v", sets, err)
	}
	path, _ = fakeTool(t, "ipset v7.19, protocol version: 7", 0)
	if v, err := (&Runner{Path: path}).Version(context.Background()); v != "7.19" || err != nil {
		t.Errorf("Version = %q, %v", v, err)
	}
}

func TestRunnerMissingTool(t *testing.T) {
	_, err := (&Runner{Path: "kproxy-no-such-ipset"}).Version(context.Background())
	if !IsNotFound(err) {
		t.Errorf("Version with a missing tool = %v, want a not-found error", err)
	}
}
