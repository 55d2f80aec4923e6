package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"time"

	v1 "k8s.io/api/core/v1"

	iptablesmode "github.com/kproxy/kproxy/modes/iptables"
	kconntrack "github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// kernelFlags are the flags of the subcommands that program the kernel.
type kernelFlags struct {
	scale
	variant string
}

// parse reads the flags of a kernel subcommand; extra registers more.
func (k *kernelFlags) parse(name string, args []string, extra func(*flag.FlagSet)) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	k.register(fs)
	fs.StringVar(&k.variant, "variant", "nft", "iptables variant: nft or legacy")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if k.variant != "nft" && k.variant != "legacy" {
		return nil, fmt.Errorf("unknown variant %q", k.variant)
	}
	return fs, nil
}

// kind returns the variant the flags name.
func (k *kernelFlags) kind() iptables.Variant {
	if k.variant == "legacy" {
		return iptables.VariantLegacy
	}
	return iptables.VariantNFT
}

// client returns the real IPv4 iptables client of the variant.
func (k *kernelFlags) client() *iptables.Client {
	return iptables.New(iptables.IPv4, k.kind())
}

// newBackend returns a set-up IPv4 backend over ipt, configured as kproxy's
// defaults and the e2e cluster configure it.
func newBackend(ctx context.Context, ipt iptables.Restorer, conntrack bool) (*iptablesmode.Backend, error) {
	o := iptablesmode.Options{
		Family:             v1.IPv4Protocol,
		IPTables:           ipt,
		ClusterCIDRs:       []netip.Prefix{clusterCIDR},
		LocalhostNodePorts: true,
	}
	if conntrack {
		o.Conntrack = kconntrack.NewNetlink(v1.IPv4Protocol)
	}
	b, err := iptablesmode.New(o)
	if err != nil {
		return nil, err
	}
	return b, b.Setup(ctx)
}

// runFull times a first full sync into empty tables, then a second one over
// the rules the first left.
func runFull(args []string) error {
	var k kernelFlags
	if _, err := k.parse("full", args, nil); err != nil {
		return err
	}
	ctx := context.Background()
	c := newCluster(k.services, k.eps)
	snap, changes := c.snapshot()
	b, err := newBackend(ctx, k.client(), true)
	if err != nil {
		return err
	}
	for _, name := range []string{"first", "again"} {
		start := time.Now()
		if err := b.Sync(ctx, snap, changes); err != nil {
			return err
		}
		report(k.variant+".full."+name, time.Since(start).Seconds())
		changes.Full = true
	}
	return nil
}

// runRestore times one plain "iptables-restore -w 5 --noflush" of a payload file
// into empty tables: the same command kproxy runs, without kproxy.
func runRestore(args []string) error {
	var k kernelFlags
	fs, err := k.parse("restore", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one payload file")
	}
	payload, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	cmd := exec.Command(k.kind().Binaries(iptables.IPv4).Restore, "-w", "5", "--noflush")
	cmd.Stdin = bytes.NewReader(payload)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", cmd.Path, err)
	}
	report(k.variant+".restore", time.Since(start).Seconds())
	return nil
}

// report prints one measurement.
func report(name string, value float64) {
	fmt.Printf("%s %.6f\n", name, value)
}
