package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testHost is the host name the tests' fake hostname lookup returns.
const testHost = "Test-Node.Example"

// fakeHostname stands in for os.Hostname.
func fakeHostname() (string, error) { return testHost, nil }

// parseArgs runs Parse with the fake host name.
func parseArgs(args ...string) (*Options, error) {
	return parse(args, fakeHostname)
}

// mustParse parses args and fails the test on error.
func mustParse(t *testing.T, args ...string) *Options {
	t.Helper()
	o, err := parseArgs(args...)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return o
}

// writeConfig writes a config file into a fresh temp dir and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configHeader starts every hand-written config in the tests.
const configHeader = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"

// withConfig returns a --config flag for a file holding configHeader+body.
func withConfig(t *testing.T, body string) string {
	t.Helper()
	return "--config=" + writeConfig(t, configHeader+body)
}

// wantErrContaining fails unless err is a single-line error holding every part.
func wantErrContaining(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines: %q", msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not mention %q", msg, p)
		}
	}
	if errors.Is(err, ErrHelp) {
		t.Errorf("got ErrHelp, want a real error")
	}
}
