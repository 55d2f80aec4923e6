package app

import (
	"net"
	"net/netip"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logsapi "k8s.io/component-base/logs/api/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// Default values, as kube-proxy's.
const (
	defaultHealthzPort      = 10256
	defaultMetricsPort      = 10249
	defaultSyncPeriod       = 30 * time.Second
	defaultMinSyncPeriod    = time.Second
	defaultConfigSync       = 15 * time.Minute
	defaultMasqueradeBit    = 14
	defaultOOMScoreAdj      = -999
	defaultConntrackPerCore = 32 * 1024
	defaultConntrackMin     = 128 * 1024
	defaultUDPIdleTimeout   = 250 * time.Millisecond
	defaultIPVSScheduler    = "rr"
)

// newDefaultConfig returns a KubeProxyConfiguration holding only defaults.
func newDefaultConfig() kubeproxyconfigv1alpha1.KubeProxyConfiguration {
	var cfg kubeproxyconfigv1alpha1.KubeProxyConfiguration
	SetDefaults(&cfg)
	return cfg
}

// SetDefaults fills the unset fields of cfg with kube-proxy's defaults. As
// upstream, a zero duration or empty string counts as unset, so a config file
// saying "iptables.minSyncPeriod: 0s" still gets the 1s default; only a flag
// can set such a field to zero. It also sets apiVersion and kind.
func SetDefaults(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	cfg.APIVersion = kubeproxyconfigv1alpha1.SchemeGroupVersion.String()
	cfg.Kind = configKind
	defaultAddresses(cfg)
	defaultIPTables(&cfg.IPTables)
	defaultIPVS(&cfg.IPVS)
	defaultNFTables(&cfg.NFTables)
	defaultConntrack(&cfg.Conntrack)
	defaultClient(cfg)
	defaultDuration(&cfg.ConfigSyncPeriod, defaultConfigSync)
	if cfg.OOMScoreAdj == nil {
		cfg.OOMScoreAdj = ptrTo[int32](defaultOOMScoreAdj)
	}
	if cfg.DetectLocalMode == "" {
		cfg.DetectLocalMode = LocalModeClusterCIDR
	}
	if cfg.FeatureGates == nil {
		cfg.FeatureGates = map[string]bool{}
	}
	logsapi.SetRecommendedLoggingConfiguration(&cfg.Logging)
}

// defaultAddresses fills bind, healthz and metrics addresses. The healthz and
// metrics hosts follow the family of bindAddress; a bare IP gets the default port.
func defaultAddresses(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	if cfg.BindAddress == "" {
		cfg.BindAddress = "0.0.0.0"
	}
	healthzHost, metricsHost := "0.0.0.0", "127.0.0.1"
	if ip, err := netip.ParseAddr(cfg.BindAddress); err == nil && ip.Is6() && !ip.Is4In6() {
		healthzHost, metricsHost = "::", "::1"
	}
	if cfg.HealthzBindAddress == "" {
		cfg.HealthzBindAddress = net.JoinHostPort(healthzHost, strconv.Itoa(defaultHealthzPort))
	}
	if cfg.MetricsBindAddress == "" {
		cfg.MetricsBindAddress = net.JoinHostPort(metricsHost, strconv.Itoa(defaultMetricsPort))
	}
	cfg.HealthzBindAddress = appendPortIfBareIP(cfg.HealthzBindAddress, defaultHealthzPort)
	cfg.MetricsBindAddress = appendPortIfBareIP(cfg.MetricsBindAddress, defaultMetricsPort)
}

// appendPortIfBareIP turns "10.0.0.1" into "10.0.0.1:port" and "::1" into
// "[::1]:port"; anything else is returned unchanged.
func appendPortIfBareIP(addr string, port int) string {
	if ip, err := netip.ParseAddr(addr); err == nil {
		return net.JoinHostPort(ip.String(), strconv.Itoa(port))
	}
	return addr
}

func defaultIPTables(c *kubeproxyconfigv1alpha1.KubeProxyIPTablesConfiguration) {
	if c.MasqueradeBit == nil {
		c.MasqueradeBit = ptrTo[int32](defaultMasqueradeBit)
	}
	if c.LocalhostNodePorts == nil {
		c.LocalhostNodePorts = ptrTo(true)
	}
	defaultDuration(&c.SyncPeriod, defaultSyncPeriod)
	defaultDuration(&c.MinSyncPeriod, defaultMinSyncPeriod)
}

// defaultIPVS leaves ipvs.minSyncPeriod at 0, as kube-proxy does.
func defaultIPVS(c *kubeproxyconfigv1alpha1.KubeProxyIPVSConfiguration) {
	defaultDuration(&c.SyncPeriod, defaultSyncPeriod)
	if c.Scheduler == "" {
		c.Scheduler = defaultIPVSScheduler
	}
}

// defaultNFTables fills the nftables section so --write-config-to output
// matches kube-proxy's, although kproxy has no nftables mode.
func defaultNFTables(c *kubeproxyconfigv1alpha1.KubeProxyNFTablesConfiguration) {
	if c.MasqueradeBit == nil {
		c.MasqueradeBit = ptrTo[int32](defaultMasqueradeBit)
	}
	defaultDuration(&c.SyncPeriod, defaultSyncPeriod)
	defaultDuration(&c.MinSyncPeriod, defaultMinSyncPeriod)
}

func defaultConntrack(c *kubeproxyconfigv1alpha1.KubeProxyConntrackConfiguration) {
	if c.MaxPerCore == nil {
		c.MaxPerCore = ptrTo[int32](defaultConntrackPerCore)
	}
	if c.Min == nil {
		c.Min = ptrTo[int32](defaultConntrackMin)
	}
	if c.TCPEstablishedTimeout == nil {
		c.TCPEstablishedTimeout = &metav1.Duration{Duration: 24 * time.Hour}
	}
	if c.TCPCloseWaitTimeout == nil {
		c.TCPCloseWaitTimeout = &metav1.Duration{Duration: time.Hour}
	}
}

func defaultClient(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	c := &cfg.ClientConnection
	if c.ContentType == "" {
		c.ContentType = "application/vnd.kubernetes.protobuf"
	}
	if c.QPS == 0 {
		c.QPS = 5
	}
	if c.Burst == 0 {
		c.Burst = 10
	}
}

// defaultDuration sets d to def when d is zero.
func defaultDuration(d *metav1.Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}

// ptrTo returns a pointer to a copy of v.
func ptrTo[T any](v T) *T {
	return &v
}
