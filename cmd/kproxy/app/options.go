package app

import (
	"net/netip"
	"strings"
	"time"

	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// Proxy modes kproxy implements. An empty mode in the flags or the config file
// resolves to ModeIPTables, as with kube-proxy on Linux.
const (
	ModeIPTables  kubeproxyconfigv1alpha1.ProxyMode = "iptables"
	ModeIPVS      kubeproxyconfigv1alpha1.ProxyMode = "ipvs"
	ModeUserspace kubeproxyconfigv1alpha1.ProxyMode = "userspace"
)

// Local traffic detection modes accepted by --detect-local-mode and the
// detectLocalMode config field.
const (
	LocalModeClusterCIDR         kubeproxyconfigv1alpha1.LocalMode = "ClusterCIDR"
	LocalModeNodeCIDR            kubeproxyconfigv1alpha1.LocalMode = "NodeCIDR"
	LocalModeBridgeInterface     kubeproxyconfigv1alpha1.LocalMode = "BridgeInterface"
	LocalModeInterfaceNamePrefix kubeproxyconfigv1alpha1.LocalMode = "InterfaceNamePrefix"
)

// NodePortAddressesPrimary is the keyword for --nodeport-addresses that means
// "the node's primary IPs, as found on the Node object".
const NodePortAddressesPrimary = "primary"

// Options is the single source of truth for how kproxy runs: the resolved
// KubeProxyConfiguration plus the few settings kube-proxy keeps outside it.
type Options struct {
	// Config is the effective configuration: defaults, overlaid by the --config
	// file, overlaid by flags given explicitly. Config.Mode is never empty.
	Config kubeproxyconfigv1alpha1.KubeProxyConfiguration

	// ConfigFile is the --config path, empty if none was given.
	ConfigFile string
	// Master overrides the API server address of the kubeconfig (--master).
	// The kubeconfig path itself is Config.ClientConnection.Kubeconfig.
	Master string
	// NodeName is the name of this node: --hostname-override, else the
	// hostnameOverride config field, else os.Hostname(); trimmed and lowercased.
	NodeName string
	// Cleanup asks kproxy to remove its rules and exit (--cleanup).
	Cleanup bool
	// WriteConfigTo, when set, asks kproxy to write Config as YAML to this
	// path and exit (--write-config-to). See WriteConfig.
	WriteConfigTo string
	// UDPIdleTimeout is how long the userspace proxy keeps an idle UDP flow
	// (--udp-timeout). The v1alpha1 config no longer carries this field.
	UDPIdleTimeout time.Duration
	// ShowVersion asks kproxy to print its version and exit (--version).
	// When it is set, Parse returns before reading the config file, and the
	// other fields hold defaults only.
	ShowVersion bool
}

// SyncPeriods returns the minimum and maximum interval between two rule syncs
// for the chosen mode: the ipvs section in ipvs mode, the iptables section in
// iptables and userspace mode.
func (o *Options) SyncPeriods() (minPeriod, maxPeriod time.Duration) {
	if o.Config.Mode == ModeIPVS {
		return o.Config.IPVS.MinSyncPeriod.Duration, o.Config.IPVS.SyncPeriod.Duration
	}
	return o.Config.IPTables.MinSyncPeriod.Duration, o.Config.IPTables.SyncPeriod.Duration
}

// ClusterCIDRs returns the pod CIDRs of Config.ClusterCIDR (one, or a
// dual-stack pair), masked to their network address. It is empty when no
// cluster CIDR is configured. Options from Parse always hold valid CIDRs.
func (o *Options) ClusterCIDRs() []netip.Prefix {
	return parsePrefixes(splitList(o.Config.ClusterCIDR))
}

// PortRange returns the parsed Config.PortRange (--proxy-port-range); see
// PortRange.Any for "any free port".
func (o *Options) PortRange() PortRange {
	pr, _ := ParsePortRange(o.Config.PortRange)
	return pr
}

// splitList splits a comma-separated list, returning nil for "".
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// parsePrefixes parses CIDRs, skipping the invalid ones.
func parsePrefixes(cidrs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
