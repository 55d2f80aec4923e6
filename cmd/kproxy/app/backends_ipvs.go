package app

import (
	"context"
	"fmt"
	"net/netip"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// newIPVSBackend connects the ipvs mode to the kernel's IPVS, links, ipsets and iptables.
func newIPVSBackend(o *Options, family v1.IPFamily, m *proxy.Metrics) (proxy.Backend, error) {
	variant, err := iptables.Detect(context.Background())
	if err != nil {
		return nil, fmt.Errorf("ipvs mode: detecting the iptables variant: %w", err)
	}
	handle, err := ipvsmode.NewHandle("")
	if err != nil {
		return nil, fmt.Errorf("ipvs mode: opening IPVS (is the ip_vs module loaded?): %w", err)
	}
	links, err := ipvsmode.NewNetlink()
	if err != nil {
		return nil, fmt.Errorf("ipvs mode: opening netlink: %w", err)
	}
	ipt := iptables.IPv4
	if family == v1.IPv6Protocol {
		ipt = iptables.IPv6
	}
	cfg := o.Config.IPVS
	return ipvsmode.New(ipvsmode.Options{
		Family:            family,
		Scheduler:         cfg.Scheduler,
		StrictARP:         cfg.StrictARP,
		TCPTimeout:        cfg.TCPTimeout.Duration,
		TCPFinTimeout:     cfg.TCPFinTimeout.Duration,
		UDPTimeout:        cfg.UDPTimeout.Duration,
		ExcludeCIDRs:      prefixes(cfg.ExcludeCIDRs),
		MasqueradeAll:     o.Config.IPTables.MasqueradeAll,
		MasqueradeBit:     masqueradeBit(o),
		ClusterCIDRs:      o.ClusterCIDRs(),
		NodePortAddresses: nodePortCIDRs(o),
		IPVS:              ipvsmode.FaultsFromEnv(handle),       // test only: KPROXY_IPVS_FAULTS
		Netlink:           ipvsmode.NetlinkFaultsFromEnv(links), // test only, as above
		IPSet:             ipset.NewNetlink(),
		IPTables:          iptables.New(ipt, variant),
		Sysctl:            ipvsmode.SysctlDir("/proc/sys"),
		Metrics:           m,
		Conntrack:         conntrack.NewNetlink(family),
	})
}

// prefixes parses CIDRs that validation already checked.
func prefixes(raw []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range raw {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
