package main

import (
	"context"
	"errors"
	"flag"
	"os"
)

// runPayload writes the payload of a full sync of the cluster to a file.
func runPayload(args []string) error {
	var s scale
	fs := flag.NewFlagSet("payload", flag.ContinueOnError)
	s.register(fs)
	out := fs.String("o", "", "file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-o is required")
	}
	ctx := context.Background()
	c := newCluster(s.services, s.eps)
	snap, changes := c.snapshot()
	capt := &capture{}
	b, err := newBackend(ctx, capt, false)
	if err != nil {
		return err
	}
	if err := b.Sync(ctx, snap, changes); err != nil {
		return err
	}
	return os.WriteFile(*out, capt.last(), 0o644)
}
