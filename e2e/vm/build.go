package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// BuildStatic compiles the Go package pkg ("./cmd/kproxy", relative to the
// kproxy module root, or an import path) into a statically linked binary
// at dst, ready to be listed in Config.Files.
func BuildStatic(ctx context.Context, pkg, dst string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dst, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return nil
}
