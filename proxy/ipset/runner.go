package ipset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner is the Interface that runs the ipset tool. Apply runs one
// "ipset restore -exist" per batch, so a sync costs one process however many
// entries change. It is safe for concurrent use.
type Runner struct {
	// Path is the ipset binary; "ipset" (looked up in PATH) when empty.
	Path string
}

var _ Interface = (*Runner)(nil)

// New returns a Runner of the ipset binary found in PATH.
func New() *Runner { return &Runner{} }

func (r *Runner) path() string {
	if r.Path == "" {
		return "ipset"
	}
	return r.Path
}

// Version runs "ipset version" and returns the version number.
func (r *Runner) Version(ctx context.Context) (string, error) {
	out, err := r.run(ctx, nil, "version")
	if err != nil {
		return "", err
	}
	return ParseVersion(string(out))
}

// List runs "ipset save" and parses its output.
func (r *Runner) List(ctx context.Context) ([]Contents, error) {
	out, err := r.run(ctx, nil, "save")
	if err != nil {
		return nil, err
	}
	return ParseSave(out)
}

// Apply runs "ipset restore -exist" with the batch on standard input. An empty
// batch runs nothing.
func (r *Runner) Apply(ctx context.Context, b *Batch) error {
	if b.Empty() {
		return nil
	}
	_, err := r.run(ctx, []byte(b.String()), "restore", "-exist")
	return err
}

// run runs the tool and returns its standard output.
func (r *Runner) run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, r.path(), args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", r.path(), args[0], ctx.Err())
		}
		return nil, &Error{Command: r.path() + " " + strings.Join(args, " "), Err: err,
			Output: strings.TrimSpace(stderr.String())}
	}
	return stdout.Bytes(), nil
}

// Error is a failed run of the ipset tool.
type Error struct {
	Command string
	Err     error
	// Output is the tool's error output, such as
	// "ipset v7.19: Error in line 3: The set with the given name does not exist".
	Output string
}

// Error returns the command, its error and its output.
func (e *Error) Error() string {
	if e.Output == "" {
		return e.Command + ": " + e.Err.Error()
	}
	return e.Command + ": " + e.Err.Error() + ": " + e.Output
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsNotFound reports whether err says the tool is missing from the node.
func IsNotFound(err error) bool { return errors.Is(err, exec.ErrNotFound) }
