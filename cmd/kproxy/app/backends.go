package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	iptablesmode "github.com/kproxy/kproxy/modes/iptables"
	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/conntrack"
)

// newBackends builds the chosen mode's backend for each IP family the node can serve:
// IPv4, and IPv6 when the kernel has it.
func newBackends(o *Options, reg prometheus.Registerer, m *proxy.Metrics) ([]proxy.FamilyBackend, error) {
	var out []proxy.FamilyBackend
	for _, family := range kernelFamilies() {
		b, err := newBackend(o, family, reg, m)
		if err != nil {
			return nil, err
		}
		out = append(out, proxy.FamilyBackend{Family: family, Backend: b})
	}
	return out, nil
}

// newBackend builds one family's backend; cmd/kproxy is the only place that knows the modes.
func newBackend(o *Options, family v1.IPFamily, reg prometheus.Registerer, m *proxy.Metrics) (proxy.Backend, error) {
	switch o.Config.Mode {
	case ModeIPTables:
		return iptablesmode.New(iptablesOptions(o, family, m))
	case ModeIPVS:
		return newIPVSBackend(o, family, m)
	case ModeUserspace:
		return newUserspaceBackend(o, family, reg, m)
	default:
		return nil, fmt.Errorf("proxy mode %q is not available in this build", o.Config.Mode)
	}
}

// iptablesOptions maps the configuration onto the iptables mode's options.
func iptablesOptions(o *Options, family v1.IPFamily, m *proxy.Metrics) iptablesmode.Options {
	ipt := o.Config.IPTables
	return iptablesmode.Options{
		Family:             family,
		MasqueradeBit:      masqueradeBit(o),
		MasqueradeAll:      ipt.MasqueradeAll,
		ClusterCIDRs:       o.ClusterCIDRs(),
		NodePortAddresses:  nodePortCIDRs(o),
		LocalAddresses:     localAddresses,
		LocalhostNodePorts: ipt.LocalhostNodePorts != nil && *ipt.LocalhostNodePorts && family == v1.IPv4Protocol,
		Conntrack:          conntrack.NewNetlink(family),
		Metrics:            m,
	}
}

// masqueradeBit returns --iptables-masquerade-bit as the modes take it.
func masqueradeBit(o *Options) *int {
	if o.Config.IPTables.MasqueradeBit == nil {
		return nil
	}
	bit := int(*o.Config.IPTables.MasqueradeBit)
	return &bit
}

// nodePortCIDRs returns the --nodeport-addresses ranges; "primary" (the node's own IPs)
// and an empty list both mean every local address here.
func nodePortCIDRs(o *Options) []netip.Prefix {
	return prefixes(o.Config.NodePortAddresses)
}

// localAddresses lists the addresses of the node's interfaces.
func localAddresses() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out, nil
}

// kernelFamilies lists the IP families the kernel supports.
func kernelFamilies() []v1.IPFamily {
	families := []v1.IPFamily{v1.IPv4Protocol}
	if _, err := os.Stat("/proc/net/if_inet6"); err == nil {
		families = append(families, v1.IPv6Protocol)
	}
	return families
}

// setupBackends runs every backend's Setup and keeps the families that can run: a node
// whose second family lacks iptables support runs single-stack, as kube-proxy does.
func setupBackends(ctx context.Context, mode string, backends []proxy.FamilyBackend) ([]proxy.FamilyBackend, error) {
	var ok []proxy.FamilyBackend
	var firstErr error
	for _, fb := range backends {
		if err := fb.Backend.Setup(ctx); err != nil {
			klog.ErrorS(err, "IP family not supported by this node; running without it", "mode", mode, "family", fb.Family)
			if firstErr == nil {
				firstErr = fmt.Errorf("%s mode (%s): %w", mode, fb.Family, err)
			}
			continue
		}
		ok = append(ok, fb)
	}
	if len(ok) == 0 {
		return nil, firstErr
	}
	return ok, nil
}

// closeBackends releases what backends hold open (the userspace mode's listeners).
func closeBackends(backends []proxy.FamilyBackend) {
	for _, fb := range backends {
		if c, ok := fb.Backend.(io.Closer); ok {
			if err := c.Close(); err != nil {
				klog.ErrorS(err, "Closing the backend", "family", fb.Family)
			}
		}
	}
}

// canaryOf returns a check that reports whether any backend's canary chain vanished
// (someone flushed kproxy's rules), or nil when no backend has a canary.
func canaryOf(backends []proxy.FamilyBackend) func(context.Context) (bool, error) {
	type canary interface {
		CheckCanary(ctx context.Context) (present bool, err error)
	}
	var checks []canary
	for _, fb := range backends {
		if c, ok := fb.Backend.(canary); ok {
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	return func(ctx context.Context) (bool, error) {
		flushed := false
		for _, c := range checks {
			present, err := c.CheckCanary(ctx)
			if err != nil {
				return false, err
			}
			flushed = flushed || !present
		}
		return flushed, nil
	}
}
