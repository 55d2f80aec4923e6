package ipvsmode_test

import (
	"context"
	"log"
	"net/netip"
	"time"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Example wires an IPv4 backend to the kernel, as cmd/kproxy does for
// --proxy-mode=ipvs (compiled, not run: it needs root and IPVS).
func Example() {
	ctx := context.Background()
	variant, err := iptables.Detect(ctx)
	if err != nil {
		log.Fatal(err)
	}
	handle, err := ipvsmode.NewHandle("") // the current network namespace
	if err != nil {
		log.Fatal(err)
	}
	defer handle.Close()
	links, err := ipvsmode.NewNetlink()
	if err != nil {
		log.Fatal(err)
	}
	b, err := ipvsmode.New(ipvsmode.Options{
		Family:       v1.IPv4Protocol,
		Scheduler:    "rr",
		TCPTimeout:   15 * time.Minute,
		ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		IPVS:         handle,
		Netlink:      links,
		IPSet:        ipset.New(),
		IPTables:     iptables.New(iptables.IPv4, variant),
		Sysctl:       ipvsmode.SysctlDir("/proc/sys"),
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := b.Setup(ctx); err != nil {
		log.Fatal(err) // e.g. `ipvs: scheduler "lblcr" is not available in the kernel (no module ip_vs_lblcr)`
	}
	// Then b.Sync(ctx, snapshot, changes) from the proxy's sync loop, or
	// b.Cleanup(ctx) for --cleanup.
}
