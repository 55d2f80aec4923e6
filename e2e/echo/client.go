package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// parseClient reads client's flags into a probe; exactly one of --tcp,
// --udp and --http names the destination.
func parseClient(args []string) (traffic.Probe, bool, error) {
	fs := flag.NewFlagSet("echo client", flag.ContinueOnError)
	tcp := fs.String("tcp", "", "connect to this ip:port")
	udp := fs.String("udp", "", "send datagrams to this ip:port")
	web := fs.String("http", "", "GET / from this ip:port")
	p := traffic.Probe{}
	fs.IntVar(&p.Count, "n", 1, "number of attempts")
	fs.IntVar(&p.Parallel, "parallel", traffic.DefaultParallel, "concurrent attempts")
	fs.DurationVar(&p.Timeout, "timeout", traffic.DefaultTimeout, "timeout of each attempt")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return p, false, err
	}
	var dest string
	for proto, addr := range map[string]string{traffic.TCP: *tcp, traffic.UDP: *udp, traffic.HTTP: *web} {
		if addr == "" {
			continue
		}
		if dest != "" {
			return p, false, errors.New("give only one of --tcp, --udp, --http")
		}
		p.Protocol, dest = proto, addr
	}
	if dest == "" {
		return p, false, errors.New("give one of --tcp, --udp, --http")
	}
	ap, err := netip.ParseAddrPort(dest)
	if err != nil {
		return p, false, fmt.Errorf("destination: %w", err)
	}
	p.Addr = ap
	return p, *asJSON, nil
}

// runClient runs the probe and prints the result.
func runClient(args []string, stdout io.Writer) error {
	p, asJSON, err := parseClient(args)
	if err != nil {
		return err
	}
	r, err := traffic.Run(context.Background(), p, nil)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(r)
	}
	_, err = fmt.Fprintln(stdout, r.String())
	return err
}
