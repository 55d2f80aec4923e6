package ipvsmode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sysctl is the kernel seam for sysctls, named by their path under /proc/sys
// ("net/ipv4/vs/conntrack").
type Sysctl interface {
	// Get returns a sysctl's value without the trailing newline.
	Get(name string) (string, error)
	// Set writes a sysctl's value.
	Set(name, value string) error
}

// SysctlDir is the Sysctl of a directory laid out like /proc/sys: "/proc/sys" for
// the kernel, a temporary directory in tests.
type SysctlDir string

// Get reads the file of the sysctl.
func (d SysctlDir) Get(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(string(d), name))
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set writes the file of the sysctl.
func (d SysctlDir) Set(name, value string) error {
	if err := os.WriteFile(filepath.Join(string(d), name), []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("sysctl %s: %w", name, err)
	}
	return nil
}
