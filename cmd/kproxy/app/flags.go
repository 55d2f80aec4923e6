package app

import (
	goflag "flag"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// programName is how kproxy names itself in messages.
const programName = "kproxy"

// newFlagSet returns kproxy's flags bound to o: kproxy-only settings to o's
// own fields, everything else to o.Config. Parsing it writes only the flags
// given on the command line, so whatever o held before (defaults, or a loaded
// config file) survives for the others. klog's flags (-v, --vmodule, …) are
// included through the standard library flag package.
func newFlagSet(o *Options) *pflag.FlagSet {
	fs := pflag.NewFlagSet(programName, pflag.ContinueOnError)
	fs.SortFlags = true
	addProgramFlags(fs, o)
	addClientFlags(fs, o)
	addServerFlags(fs, &o.Config)
	addModeFlags(fs, o)
	addIPTablesFlags(fs, &o.Config.IPTables)
	addIPVSFlags(fs, &o.Config.IPVS)
	addConntrackFlags(fs, &o.Config.Conntrack)
	addLocalDetectionFlags(fs, &o.Config)
	addKlogFlags(fs)
	return fs
}

// addProgramFlags binds the flags that only steer what kproxy does at start.
func addProgramFlags(fs *pflag.FlagSet, o *Options) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "Path to a KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1). Flags given on the command line override its values.")
	fs.StringVar(&o.WriteConfigTo, "write-config-to", o.WriteConfigTo, "Write the effective configuration as YAML to this file and exit.")
	fs.BoolVar(&o.Cleanup, "cleanup", o.Cleanup, "Remove the iptables and IPVS rules kproxy created, then exit.")
	fs.BoolVar(&o.ShowVersion, "version", o.ShowVersion, "Print the version and exit.")
	fs.Var(featureGatesValue{&o.Config.FeatureGates}, "feature-gates", "Comma-separated Name=true|false pairs for alpha/experimental features. kproxy stores them but gates nothing yet.")
}

// addClientFlags binds the API server connection flags.
func addClientFlags(fs *pflag.FlagSet, o *Options) {
	c := &o.Config.ClientConnection
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "Path to a kubeconfig file with the API server address and credentials. Empty means in-cluster configuration.")
	fs.StringVar(&o.Master, "master", o.Master, "Address of the Kubernetes API server; overrides the one in the kubeconfig.")
	fs.StringVar(&c.ContentType, "kube-api-content-type", c.ContentType, "Content type of requests sent to the API server.")
	fs.Float32Var(&c.QPS, "kube-api-qps", c.QPS, "Queries per second allowed towards the API server.")
	fs.Int32Var(&c.Burst, "kube-api-burst", c.Burst, "Burst of queries allowed towards the API server.")
	fs.DurationVar(&o.Config.ConfigSyncPeriod.Duration, "config-sync-period", o.Config.ConfigSyncPeriod.Duration, "How often the Service and EndpointSlice informers resync. Must be greater than 0.")
}

// addServerFlags binds node identity and the healthz/metrics listeners.
func addServerFlags(fs *pflag.FlagSet, cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	fs.StringVar(&cfg.HostnameOverride, "hostname-override", cfg.HostnameOverride, "Name of this node. Empty means the host name.")
	fs.StringVar(&cfg.BindAddress, "bind-address", cfg.BindAddress, "This node's primary IP as kproxy should see it (the name is historical: nothing binds to it).")
	fs.StringVar(&cfg.HealthzBindAddress, "healthz-bind-address", cfg.HealthzBindAddress, "IP:port for the health check server. A bare IP gets port 10256. Empty disables it.")
	fs.StringVar(&cfg.MetricsBindAddress, "metrics-bind-address", cfg.MetricsBindAddress, "IP:port for the metrics server. A bare IP gets port 10249. Empty disables it.")
	fs.BoolVar(&cfg.BindAddressHardFail, "bind-address-hard-fail", cfg.BindAddressHardFail, "Exit when the healthz or metrics port cannot be bound.")
	fs.BoolVar(&cfg.EnableProfiling, "profiling", cfg.EnableProfiling, "Serve /debug/pprof on the metrics server.")
	fs.StringVar(&cfg.ShowHiddenMetricsForVersion, "show-hidden-metrics-for-version", cfg.ShowHiddenMetricsForVersion, "Previous version (<major>.<minor>, e.g. 1.36) whose hidden metrics to show.")
	fs.Var(int32PtrValue{&cfg.OOMScoreAdj}, "oom-score-adj", "oom_score_adj for the kproxy process, within [-1000, 1000].")
}

// addModeFlags binds the proxy mode, mode-independent service settings and
// the userspace proxy's own flags.
func addModeFlags(fs *pflag.FlagSet, o *Options) {
	cfg := &o.Config
	fs.Var(stringValue[kubeproxyconfigv1alpha1.ProxyMode]{&cfg.Mode, "ProxyMode"}, "proxy-mode", "Proxy mode: 'iptables' (default), 'ipvs' or 'userspace'.")
	fs.StringSliceVar(&cfg.NodePortAddresses, "nodeport-addresses", cfg.NodePortAddresses, "Comma-separated CIDRs of the node IPs that accept NodePort traffic, or the single value 'primary' for the node's primary IPs. Empty means all local IPs.")
	fs.StringVar(&cfg.PortRange, "proxy-port-range", cfg.PortRange, "Host ports the userspace proxy may use: 'begin-end', 'begin+offset' or one port. Empty or 0 means any free port.")
	fs.DurationVar(&o.UDPIdleTimeout, "udp-timeout", o.UDPIdleTimeout, "How long the userspace proxy keeps an idle UDP flow (e.g. 250ms, 2s). Must be greater than 0.")
}

// addIPTablesFlags binds the iptables section, also used by ipvs mode for
// masquerading and by userspace mode for its sync periods.
func addIPTablesFlags(fs *pflag.FlagSet, c *kubeproxyconfigv1alpha1.KubeProxyIPTablesConfiguration) {
	fs.Var(int32PtrValue{&c.MasqueradeBit}, "iptables-masquerade-bit", "Bit of the fwmark that marks packets to SNAT, within [0, 31].")
	fs.BoolVar(&c.MasqueradeAll, "masquerade-all", c.MasqueradeAll, "SNAT all traffic sent to Service cluster IPs.")
	fs.Var(boolPtrValue{&c.LocalhostNodePorts}, "iptables-localhost-nodeports", "Accept NodePort connections on 127.0.0.1 (iptables mode, IPv4 only).")
	fs.Lookup("iptables-localhost-nodeports").NoOptDefVal = "true"
	fs.DurationVar(&c.SyncPeriod.Duration, "iptables-sync-period", c.SyncPeriod.Duration, "Maximum interval between full rule syncs in iptables and userspace mode. Must be greater than 0.")
	fs.DurationVar(&c.MinSyncPeriod.Duration, "iptables-min-sync-period", c.MinSyncPeriod.Duration, "Minimum interval between rule syncs in iptables and userspace mode; 0 syncs on every change.")
}

// addIPVSFlags binds the ipvs section.
func addIPVSFlags(fs *pflag.FlagSet, c *kubeproxyconfigv1alpha1.KubeProxyIPVSConfiguration) {
	fs.DurationVar(&c.SyncPeriod.Duration, "ipvs-sync-period", c.SyncPeriod.Duration, "Maximum interval between full rule syncs in ipvs mode. Must be greater than 0.")
	fs.DurationVar(&c.MinSyncPeriod.Duration, "ipvs-min-sync-period", c.MinSyncPeriod.Duration, "Minimum interval between rule syncs in ipvs mode; 0 syncs on every change.")
	fs.StringVar(&c.Scheduler, "ipvs-scheduler", c.Scheduler, "IPVS scheduler: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq or mh.")
	fs.StringSliceVar(&c.ExcludeCIDRs, "ipvs-exclude-cidrs", c.ExcludeCIDRs, "Comma-separated CIDRs whose IPVS virtual servers kproxy never removes.")
	fs.BoolVar(&c.StrictARP, "ipvs-strict-arp", c.StrictARP, "Set arp_ignore=1 and arp_announce=2 so the node does not answer ARP for service IPs.")
	fs.DurationVar(&c.TCPTimeout.Duration, "ipvs-tcp-timeout", c.TCPTimeout.Duration, "IPVS timeout for idle TCP sessions; 0 leaves the kernel's value.")
	fs.DurationVar(&c.TCPFinTimeout.Duration, "ipvs-tcpfin-timeout", c.TCPFinTimeout.Duration, "IPVS timeout for TCP sessions after a FIN; 0 leaves the kernel's value.")
	fs.DurationVar(&c.UDPTimeout.Duration, "ipvs-udp-timeout", c.UDPTimeout.Duration, "IPVS timeout for UDP packets; 0 leaves the kernel's value.")
}

// addConntrackFlags binds the conntrack section.
func addConntrackFlags(fs *pflag.FlagSet, c *kubeproxyconfigv1alpha1.KubeProxyConntrackConfiguration) {
	fs.Var(int32PtrValue{&c.MaxPerCore}, "conntrack-max-per-core", "Conntrack entries to allow per CPU core; 0 leaves the limit as is and ignores --conntrack-min.")
	fs.Var(int32PtrValue{&c.Min}, "conntrack-min", "Minimum conntrack table size, whatever --conntrack-max-per-core gives.")
	fs.Var(durationPtrValue{&c.TCPEstablishedTimeout}, "conntrack-tcp-timeout-established", "Idle timeout of established TCP conntrack entries; 0 leaves it as is.")
	fs.Var(durationPtrValue{&c.TCPCloseWaitTimeout}, "conntrack-tcp-timeout-close-wait", "Timeout of TCP conntrack entries in CLOSE_WAIT; 0 leaves it as is.")
	fs.BoolVar(&c.TCPBeLiberal, "conntrack-tcp-be-liberal", c.TCPBeLiberal, "Set nf_conntrack_tcp_be_liberal so out-of-window TCP packets are not marked INVALID.")
	fs.DurationVar(&c.UDPTimeout.Duration, "conntrack-udp-timeout", c.UDPTimeout.Duration, "Idle timeout of UNREPLIED UDP conntrack entries; 0 leaves it as is.")
	fs.DurationVar(&c.UDPStreamTimeout.Duration, "conntrack-udp-timeout-stream", c.UDPStreamTimeout.Duration, "Idle timeout of ASSURED UDP conntrack entries; 0 leaves it as is.")
}

// addLocalDetectionFlags binds how kproxy tells pod traffic from other traffic.
func addLocalDetectionFlags(fs *pflag.FlagSet, cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	fs.StringVar(&cfg.ClusterCIDR, "cluster-cidr", cfg.ClusterCIDR, "Pod CIDR of the cluster, or a comma-separated IPv4,IPv6 pair. Traffic from it is local when --detect-local-mode=ClusterCIDR.")
	fs.Var(stringValue[kubeproxyconfigv1alpha1.LocalMode]{&cfg.DetectLocalMode, "LocalMode"}, "detect-local-mode", "How to detect local traffic: ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix.")
	fs.StringVar(&cfg.DetectLocal.BridgeInterface, "pod-bridge-interface", cfg.DetectLocal.BridgeInterface, "Bridge whose traffic is local when --detect-local-mode=BridgeInterface.")
	fs.StringVar(&cfg.DetectLocal.InterfaceNamePrefix, "pod-interface-name-prefix", cfg.DetectLocal.InterfaceNamePrefix, "Interface name prefix whose traffic is local when --detect-local-mode=InterfaceNamePrefix.")
}

// addKlogFlags adds klog's flags, so that both -v=4 and --v=4 work.
func addKlogFlags(fs *pflag.FlagSet) {
	gfs := goflag.NewFlagSet(programName, goflag.ContinueOnError)
	klog.InitFlags(gfs)
	fs.AddGoFlagSet(gfs)
}
