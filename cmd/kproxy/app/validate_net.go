package app

import (
	"net"
	"net/netip"
	"slices"
	"strconv"

	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// addresses checks the bind, healthz and metrics addresses, the node port
// addresses and the port range.
func (v *validator) addresses(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	if _, err := netip.ParseAddr(cfg.BindAddress); err != nil {
		v.addf("bindAddress", "bind-address", "%q is not an IP address", cfg.BindAddress)
	}
	v.hostPort("healthzBindAddress", "healthz-bind-address", cfg.HealthzBindAddress)
	v.hostPort("metricsBindAddress", "metrics-bind-address", cfg.MetricsBindAddress)
	v.nodePortAddresses(cfg.NodePortAddresses)
	if _, err := ParsePortRange(cfg.PortRange); err != nil {
		v.addf("portRange", "proxy-port-range", "%q is not a port range (e.g. 30000-30100 or 30000+100): %v", cfg.PortRange, err)
	}
}

// hostPort checks an optional "IP:port" listen address; empty disables the server.
func (v *validator) hostPort(field, flag, addr string) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.addf(field, flag, "%q is not IP:port", addr)
		return
	}
	if _, err := netip.ParseAddr(host); err != nil {
		v.addf(field, flag, "%q: %q is not an IP address", addr, host)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		v.addf(field, flag, "%q: %q is not a port in 1-65535", addr, port)
	}
}

// nodePortAddresses checks a list of CIDRs, or the single keyword "primary".
func (v *validator) nodePortAddresses(list []string) {
	if slices.Contains(list, NodePortAddressesPrimary) {
		if len(list) != 1 {
			v.addf("nodePortAddresses", "nodeport-addresses", "%q cannot be combined with CIDRs", NodePortAddressesPrimary)
		}
		return
	}
	v.cidrList("nodePortAddresses", "nodeport-addresses", list)
}

// cidrList checks that every entry is a CIDR.
func (v *validator) cidrList(field, flag string, list []string) {
	for _, c := range list {
		if _, err := netip.ParsePrefix(c); err != nil {
			v.addf(field, flag, "%q is not a CIDR", c)
		}
	}
}

// localDetection checks clusterCIDR and the local traffic detection mode.
func (v *validator) localDetection(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	v.clusterCIDR(cfg.ClusterCIDR)
	switch cfg.DetectLocalMode {
	case "", LocalModeClusterCIDR, LocalModeNodeCIDR:
	case LocalModeBridgeInterface:
		if cfg.DetectLocal.BridgeInterface == "" {
			v.addf("detectLocal.bridgeInterface", "pod-bridge-interface", "must be set when detectLocalMode is %s", LocalModeBridgeInterface)
		}
	case LocalModeInterfaceNamePrefix:
		if cfg.DetectLocal.InterfaceNamePrefix == "" {
			v.addf("detectLocal.interfaceNamePrefix", "pod-interface-name-prefix", "must be set when detectLocalMode is %s", LocalModeInterfaceNamePrefix)
		}
	default:
		v.addf("detectLocalMode", "detect-local-mode", "unknown mode %q (valid: %s, %s, %s, %s)", cfg.DetectLocalMode,
			LocalModeClusterCIDR, LocalModeNodeCIDR, LocalModeBridgeInterface, LocalModeInterfaceNamePrefix)
	}
}

// clusterCIDR checks for one CIDR or a dual-stack pair (one per family).
func (v *validator) clusterCIDR(s string) {
	const field, flag = "clusterCIDR", "cluster-cidr"
	parts := splitList(s)
	before := len(v.errs)
	v.cidrList(field, flag, parts)
	if len(v.errs) > before {
		return
	}
	switch {
	case len(parts) > 2:
		v.addf(field, flag, "%q: at most two CIDRs, one IPv4 and one IPv6", s)
	case len(parts) == 2:
		p := parsePrefixes(parts)
		if p[0].Addr().Is4() == p[1].Addr().Is4() {
			v.addf(field, flag, "%q: two CIDRs must be one IPv4 and one IPv6", s)
		}
	}
}
