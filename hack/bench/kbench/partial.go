package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"
)

// runPartial programs the cluster, then moves one endpoint of one service at a
// time, n times, each a different service spread over the whole range, and times
// each sync from the snapshot to the rules being in the kernel (what a user waits
// for once kproxy sees the EndpointSlice change).
func runPartial(args []string) error {
	var k kernelFlags
	var n int
	if _, err := k.parse("partial", args, func(fs *flag.FlagSet) {
		fs.IntVar(&n, "n", 50, "number of endpoint changes")
	}); err != nil {
		return err
	}
	ctx := context.Background()
	c := newCluster(k.services, k.eps)
	snap, changes := c.snapshot()
	b, err := newBackend(ctx, k.client(), true)
	if err != nil {
		return err
	}
	if err := b.Sync(ctx, snap, changes); err != nil {
		return err
	}
	times := make([]float64, 0, n)
	for i := range n {
		c.changeEndpoint((i*7919 + 13) % k.services)
		snap, changes := c.snapshot()
		if changes.Full || len(changes.Services) != 1 {
			return fmt.Errorf("change %d: want one changed service, got full=%v %d", i, changes.Full, len(changes.Services))
		}
		start := time.Now()
		if err := b.Sync(ctx, snap, changes); err != nil {
			return err
		}
		times = append(times, time.Since(start).Seconds())
	}
	slices.Sort(times)
	prefix := k.variant + ".partial."
	report(prefix+"p50", percentile(times, 50))
	report(prefix+"p99", percentile(times, 99))
	report(prefix+"max", times[len(times)-1])
	return nil
}

// percentile returns the p-th percentile of sorted values (nearest rank).
func percentile(sorted []float64, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
