package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// lockWaitSeconds is how long a command waits for the xtables lock.
const lockWaitSeconds = "5"

// Client is the Restorer that runs the real binaries of one family and
// variant. It is safe for concurrent use.
type Client struct {
	family  Family
	variant Variant
	bins    Binaries

	mu  sync.Mutex
	ipt *goiptables.IPTables // built on first use of a chain or rule helper
}

var _ Restorer = (*Client)(nil)

// New returns a Client for family f running the commands of variant v.
// Nothing runs until a method is called.
func New(f Family, v Variant) *Client {
	return &Client{family: f, variant: v, bins: v.Binaries(f)}
}

// Family returns the client's IP family.
func (c *Client) Family() Family { return c.family }

// Variant returns the variant whose commands the client runs.
func (c *Client) Variant() Variant { return c.variant }

// Restore runs "<restore> -w 5 --noflush" with payload on standard input.
func (c *Client) Restore(ctx context.Context, payload []byte) error {
	cmd := exec.CommandContext(ctx, c.bins.Restore, "-w", lockWaitSeconds, "--noflush")
	cmd.Stdin = bytes.NewReader(payload)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", c.bins.Restore, ctx.Err())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("%s: %w", c.bins.Restore, err)
	}
	return newRestoreError(c.bins.Restore, exit.ExitCode(), out.Bytes(), payload)
}

// Save runs "<save> -t table" and returns its output.
func (c *Client) Save(ctx context.Context, table Table) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.bins.Save, "-t", string(table))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -t %s: %w: %s", c.bins.Save, table, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
