package app

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildKproxy compiles cmd/kproxy into a temp dir and returns the binary's path.
func buildKproxy(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the kproxy binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "kproxy")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/kproxy/kproxy/cmd/kproxy").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runResult is what one kproxy run produced.
type runResult struct {
	code           int
	stdout, stderr string
}

// runKproxy runs the binary with args.
func runKproxy(t *testing.T, bin string, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running kproxy: %v", err)
	}
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestBinary(t *testing.T) {
	bin := buildKproxy(t)
	written := filepath.Join(t.TempDir(), "written.yaml")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr string   // substring of the single stderr line; "" means stderr must be empty
	}{
		{"help", []string{"--help"}, 0, []string{"Usage: kproxy", "--proxy-mode", "--config", "--ipvs-scheduler", "--cluster-cidr", "-v, --v"}, ""},
		{"short help", []string{"-h"}, 0, []string{"--write-config-to"}, ""},
		{"unknown flag", []string{"--bogus"}, 1, nil, "kproxy: unknown flag: --bogus (run 'kproxy --help' for usage)"},
		{"bad flag value", []string{"--udp-timeout=fast"}, 1, nil, "--udp-timeout"},
		{"invalid setting", []string{"--proxy-mode=ipvs", "--ipvs-scheduler=magic"}, 1, nil, "kproxy: ipvs.scheduler (--ipvs-scheduler)"},
		{"unreadable config", []string{"--config=/does/not/exist.yaml"}, 1, nil, "kproxy: --config"},
		{"version", []string{"--version"}, 0, []string{"kproxy "}, ""},
		{"prints resolved options", []string{"--write-config-to=/dev/stdout", "--hostname-override=N1", "-v=2"}, 0, []string{"hostnameOverride: N1", "kind: KubeProxyConfiguration", "verbosity: 2"}, ""},
		{"write config", []string{"--write-config-to=" + written, "--proxy-mode=ipvs"}, 0, nil, ""},
		{"kubeadm config", []string{"--config=testdata/kubeadm-config.conf", "--write-config-to=/dev/stdout"}, 0, []string{"kubeconfig: /var/lib/kube-proxy/kubeconfig.conf"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runKproxy(t, bin, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q", s)
				}
			}
			checkStderr(t, r.stderr, tt.wantStderr)
		})
	}
	data, err := os.ReadFile(written)
	if err != nil {
		t.Fatalf("--write-config-to wrote nothing: %v", err)
	}
	if cfg, err := DecodeConfig(data); err != nil || cfg.Mode != ModeIPVS {
		t.Errorf("written config does not decode to ipvs mode: %v", err)
	}
}

// checkStderr wants empty stderr, or exactly one line containing want.
func checkStderr(t *testing.T, stderr, want string) {
	t.Helper()
	if want == "" {
		if stderr != "" {
			t.Errorf("unexpected stderr %q", stderr)
		}
		return
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not exactly one line: %q", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}
