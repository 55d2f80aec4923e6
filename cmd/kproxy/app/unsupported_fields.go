package app

import (
	"net/netip"
	"slices"
	"strings"

	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// configField is one field of the v1alpha1 KubeProxyConfiguration and what
// kproxy does with it.
type configField struct {
	// path is the field as the config file spells it, e.g. "ipvs.scheduler".
	path string
	// where says where kproxy honours the field; "" when it never does.
	where string
	// ignored returns why the field is ignored with o's settings, or "" when
	// it is honoured there.
	ignored func(o *Options) string
}

// ignoredIn returns why cf is ignored with o's settings, or "".
func (cf configField) ignoredIn(o *Options) string {
	if cf.ignored == nil {
		return ""
	}
	return cf.ignored(o)
}

// used is a field kproxy always honours.
func used(path, where string) configField {
	return configField{path: path, where: where}
}

// usedIn is a field kproxy honours in some proxy modes only.
func usedIn(path, where string, modes ...kubeproxyconfigv1alpha1.ProxyMode) configField {
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = string(m)
	}
	reason := "used in " + strings.Join(names, " and ") + " mode only"
	return configField{path: path, where: where, ignored: func(o *Options) string {
		if slices.Contains(modes, o.Config.Mode) {
			return ""
		}
		return reason
	}}
}

// unused is a field kproxy never acts on.
func unused(path, reason string) configField {
	return configField{path: path, ignored: func(*Options) string { return reason }}
}

// Why whole groups of fields are ignored.
const (
	noConntrackSysctls = "kproxy does not set conntrack sysctls; set them on the node"
	noNFTables         = "kproxy has no nftables mode"
	windowsOnly        = "Windows only"
	clusterCIDROnly    = "kproxy detects local traffic by clusterCIDR only"
	textLogsOnly       = "kproxy writes text logs to stderr only"
	backendOptions     = " (set in backends.go)"
)

// configFields is every field of the v1alpha1 KubeProxyConfiguration, in the
// order of the type. unsupported_test.go fails when the API or kubeadm's
// config file has a field this table lacks.
var configFields = []configField{
	used("apiVersion", "config.go DecodeConfig: must be kubeproxy.config.k8s.io/v1alpha1"),
	used("kind", "config.go DecodeConfig: must be KubeProxyConfiguration"),
	unused("featureGates", "kproxy has no feature gates"),

	used("clientConnection.kubeconfig", "run.go newClient"),
	used("clientConnection.acceptContentTypes", "run.go newClient"),
	used("clientConnection.contentType", "run.go newClient"),
	used("clientConnection.qps", "run.go newClient"),
	used("clientConnection.burst", "run.go newClient"),

	used("logging.format", "validate.go general: only text, the format kproxy writes, is accepted"),
	unused("logging.flushFrequency", "kproxy keeps klog's flush interval (5s)"),
	used("logging.verbosity", "resolve.go resolveVerbosity: klog's -v"),
	unused("logging.vmodule", "use the --vmodule flag"),
	unused("logging.options.text.splitStream", textLogsOnly),
	unused("logging.options.text.infoBufferSize", textLogsOnly),
	unused("logging.options.json.splitStream", textLogsOnly),
	unused("logging.options.json.infoBufferSize", textLogsOnly),

	used("hostnameOverride", "resolve.go nodeName: the Node kproxy watches and records events on"),
	{path: "bindAddress", where: "defaults.go defaultAddresses: family of the default healthz and metrics addresses; " +
		"userspace mode: where listeners listen (modes/userspace Options.BindAddress" + backendOptions + ")",
		ignored: bindAddressIgnored},
	used("healthzBindAddress", "run.go: proxy.Config.HealthzAddr"),
	used("metricsBindAddress", "run.go: proxy.Config.MetricsAddr"),
	used("bindAddressHardFail", "proxy.Server.Run: kproxy always exits when a listener cannot bind"),
	unused("enableProfiling", "kproxy serves no /debug/pprof"),
	unused("showHiddenMetricsForVersion", "kproxy has no hidden metrics"),
	used("mode", "backends.go newBackends"),

	usedIn("iptables.masqueradeBit", "modes/iptables and modes/ipvs Options.MasqueradeBit"+backendOptions, ModeIPTables, ModeIPVS),
	usedIn("iptables.masqueradeAll", "modes/iptables and modes/ipvs Options.MasqueradeAll"+backendOptions, ModeIPTables, ModeIPVS),
	usedIn("iptables.localhostNodePorts", "modes/iptables Options.LocalhostNodePorts"+backendOptions, ModeIPTables),
	usedIn("iptables.syncPeriod", "options.go SyncPeriods: proxy.Config.SyncPeriod", ModeIPTables, ModeUserspace),
	usedIn("iptables.minSyncPeriod", "options.go SyncPeriods: proxy.Config.MinSyncPeriod", ModeIPTables, ModeUserspace),

	usedIn("ipvs.syncPeriod", "options.go SyncPeriods: proxy.Config.SyncPeriod", ModeIPVS),
	usedIn("ipvs.minSyncPeriod", "options.go SyncPeriods: proxy.Config.MinSyncPeriod", ModeIPVS),
	usedIn("ipvs.scheduler", "modes/ipvs Options.Scheduler"+backendOptions, ModeIPVS),
	usedIn("ipvs.excludeCIDRs", "modes/ipvs Options.ExcludeCIDRs"+backendOptions, ModeIPVS),
	usedIn("ipvs.strictARP", "modes/ipvs Options.StrictARP"+backendOptions, ModeIPVS),
	usedIn("ipvs.tcpTimeout", "modes/ipvs Options.TCPTimeout"+backendOptions, ModeIPVS),
	usedIn("ipvs.tcpFinTimeout", "modes/ipvs Options.TCPFinTimeout"+backendOptions, ModeIPVS),
	usedIn("ipvs.udpTimeout", "modes/ipvs Options.UDPTimeout"+backendOptions, ModeIPVS),

	unused("nftables.masqueradeBit", noNFTables),
	unused("nftables.masqueradeAll", noNFTables),
	unused("nftables.syncPeriod", noNFTables),
	unused("nftables.minSyncPeriod", noNFTables),

	unused("winkernel.networkName", windowsOnly),
	unused("winkernel.sourceVip", windowsOnly),
	unused("winkernel.enableDSR", windowsOnly),
	unused("winkernel.rootHnsEndpointName", windowsOnly),
	unused("winkernel.forwardHealthCheckVip", windowsOnly),

	{path: "detectLocalMode", where: "ClusterCIDR only: see clusterCIDR", ignored: detectLocalModeIgnored},
	unused("detectLocal.bridgeInterface", clusterCIDROnly),
	unused("detectLocal.interfaceNamePrefix", clusterCIDROnly),
	used("clusterCIDR", "every mode's Options.ClusterCIDRs"+backendOptions+": masquerading and local traffic"),
	{path: "nodePortAddresses", where: "every mode's Options.NodePortAddresses" + backendOptions + ", CIDRs only",
		ignored: nodePortAddressesIgnored},
	unused("oomScoreAdj", "kproxy does not change its oom_score_adj"),

	unused("conntrack.maxPerCore", noConntrackSysctls),
	unused("conntrack.min", noConntrackSysctls),
	unused("conntrack.tcpEstablishedTimeout", noConntrackSysctls),
	unused("conntrack.tcpCloseWaitTimeout", noConntrackSysctls),
	unused("conntrack.tcpBeLiberal", noConntrackSysctls),
	unused("conntrack.udpTimeout", noConntrackSysctls),
	unused("conntrack.udpStreamTimeout", noConntrackSysctls),

	used("configSyncPeriod", "run.go: proxy.Config.ConfigSyncPeriod, the informers' resync"),
	usedIn("portRange", "modes/userspace Options.PortRange"+backendOptions, ModeUserspace),
	unused("windowsRunAsService", windowsOnly),
}

// bindAddressIgnored: kube-proxy takes a specific bindAddress as the node's
// primary IP; kproxy takes the node's IPs from its Node object and uses a
// specific address only as the userspace listeners' address.
func bindAddressIgnored(o *Options) string {
	ip, err := netip.ParseAddr(o.Config.BindAddress)
	if (err == nil && ip.IsUnspecified()) || o.Config.Mode == ModeUserspace {
		return ""
	}
	return "kproxy takes the node's IPs from its Node object; a specific bindAddress is used in userspace mode only"
}

// detectLocalModeIgnored: only ClusterCIDR is implemented.
func detectLocalModeIgnored(o *Options) string {
	if o.Config.DetectLocalMode == LocalModeClusterCIDR {
		return ""
	}
	return clusterCIDROnly
}

// nodePortAddressesIgnored: every mode takes CIDRs; "primary" (the node's
// primary IPs) is served as every local address (backends.go nodePortCIDRs).
func nodePortAddressesIgnored(o *Options) string {
	if slices.Contains(o.Config.NodePortAddresses, NodePortAddressesPrimary) {
		return `"primary" is not implemented: node ports answer on every local address`
	}
	return ""
}
