package framework

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Environment variables the e2e tests read.
const (
	// EnvEnable must be "1" for e2e tests to run (make e2e sets it).
	EnvEnable = "KPROXY_E2E"
	// EnvBinDir is where kproxy, kcluster and echo are found
	// (default <repo>/_output/bin).
	EnvBinDir = "KPROXY_BIN_DIR"
	// EnvKeep set to "1" keeps a failed test's namespaces and processes for
	// debugging; the next run's sweep removes them.
	EnvKeep = "KPROXY_E2E_KEEP"
)

// Binary names looked up in the bin directory.
const (
	BinKProxy   = "kproxy"
	BinKCluster = "kcluster"
	BinEcho     = "echo"
)

// RequireE2E skips the test unless it runs as root with KPROXY_E2E=1.
func RequireE2E(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvEnable) != "1" {
		t.Skipf("e2e test: set %s=1 to run it (`make e2e` does; it needs root)", EnvEnable)
	}
	if os.Geteuid() != 0 {
		t.Skip("e2e test: needs root to create network namespaces; run `sudo make e2e`")
	}
}

// BinDir returns $KPROXY_BIN_DIR, else <repo>/_output/bin.
func BinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return filepath.Abs(d)
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "_output", "bin"), nil
}

// Binary returns the path of a built binary, failing the test with the
// command that builds it when it is missing.
func Binary(t testing.TB, name string) string {
	t.Helper()
	dir, err := BinDir()
	if err != nil {
		t.Fatalf("e2e: %v; set %s", err, EnvBinDir)
	}
	path := filepath.Join(dir, name)
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("e2e: binary %s not found; run `make binaries` or set %s", path, EnvBinDir)
	}
	return path
}

// repoRoot walks up from the working directory to kproxy's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isKProxyModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the kproxy repository")
		}
		dir = parent
	}
}

// isKProxyModule reports whether path is the go.mod of kproxy's main module.
func isKProxyModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "module github.com/kproxy/kproxy" {
			return true
		}
	}
	return false
}
