package app

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// ipvsSchedulers are the IPVS scheduler names kproxy accepts.
var ipvsSchedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"}

// hiddenMetricsVersion matches "<major>.<minor>".
var hiddenMetricsVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// fieldError is one invalid setting, named by its config field and its flag.
type fieldError struct {
	field string // path in the config file, e.g. "ipvs.scheduler"
	flag  string // flag name without dashes, "" if there is none
	msg   string
}

func (e fieldError) Error() string {
	if e.flag == "" {
		return e.field + ": " + e.msg
	}
	return fmt.Sprintf("%s (--%s): %s", e.field, e.flag, e.msg)
}

// validator collects every invalid setting, so one run reports them all.
type validator struct {
	errs []error
}

func (v *validator) addf(field, flag, format string, args ...any) {
	v.errs = append(v.errs, fieldError{field: field, flag: flag, msg: fmt.Sprintf(format, args...)})
}

// Validate checks o before anything touches the kernel. The error, if any,
// lists every invalid setting on one line, separated by "; "; each names its
// config field and its flag. Parse calls it; Options built by hand also need
// a NodeName to pass. As kube-proxy, it checks the ipvs section only in
// ipvs mode.
func Validate(o *Options) error {
	v := &validator{}
	cfg := &o.Config
	v.mode(cfg.Mode)
	v.iptables(&cfg.IPTables)
	if cfg.Mode == ModeIPVS {
		v.ipvs(&cfg.IPVS)
	}
	v.conntrack(&cfg.Conntrack)
	v.addresses(cfg)
	v.localDetection(cfg)
	v.general(cfg)
	v.positive("udpIdleTimeout", "udp-timeout", o.UDPIdleTimeout)
	if o.NodeName == "" {
		v.addf("hostnameOverride", "hostname-override", "the node name is empty")
	}
	return joinErrors(v.errs)
}

func (v *validator) mode(m kubeproxyconfigv1alpha1.ProxyMode) {
	switch m {
	case "", ModeIPTables, ModeIPVS, ModeUserspace:
	default:
		v.addf("mode", "proxy-mode", "unknown proxy mode %q (kproxy supports iptables, ipvs and userspace)", m)
	}
}

func (v *validator) iptables(c *kubeproxyconfigv1alpha1.KubeProxyIPTablesConfiguration) {
	if c.MasqueradeBit != nil && (*c.MasqueradeBit < 0 || *c.MasqueradeBit > 31) {
		v.addf("iptables.masqueradeBit", "iptables-masquerade-bit", "%d is outside [0, 31]", *c.MasqueradeBit)
	}
	v.syncPeriods("iptables", c.SyncPeriod, c.MinSyncPeriod)
}

func (v *validator) ipvs(c *kubeproxyconfigv1alpha1.KubeProxyIPVSConfiguration) {
	v.syncPeriods("ipvs", c.SyncPeriod, c.MinSyncPeriod)
	if c.Scheduler != "" && !slices.Contains(ipvsSchedulers, c.Scheduler) {
		v.addf("ipvs.scheduler", "ipvs-scheduler", "unknown IPVS scheduler %q (valid: %s)", c.Scheduler, strings.Join(ipvsSchedulers, ", "))
	}
	v.cidrList("ipvs.excludeCIDRs", "ipvs-exclude-cidrs", c.ExcludeCIDRs)
	v.nonNegative("ipvs.tcpTimeout", "ipvs-tcp-timeout", c.TCPTimeout.Duration)
	v.nonNegative("ipvs.tcpFinTimeout", "ipvs-tcpfin-timeout", c.TCPFinTimeout.Duration)
	v.nonNegative("ipvs.udpTimeout", "ipvs-udp-timeout", c.UDPTimeout.Duration)
}

// syncPeriods checks one mode's syncPeriod and minSyncPeriod.
func (v *validator) syncPeriods(section string, maxPeriod, minPeriod metav1.Duration) {
	v.positive(section+".syncPeriod", section+"-sync-period", maxPeriod.Duration)
	v.nonNegative(section+".minSyncPeriod", section+"-min-sync-period", minPeriod.Duration)
	if minPeriod.Duration > maxPeriod.Duration {
		v.addf(section+".minSyncPeriod", section+"-min-sync-period",
			"%s is greater than %s.syncPeriod (--%s-sync-period) %s", minPeriod.Duration, section, section, maxPeriod.Duration)
	}
}

func (v *validator) conntrack(c *kubeproxyconfigv1alpha1.KubeProxyConntrackConfiguration) {
	if c.MaxPerCore != nil && *c.MaxPerCore < 0 {
		v.addf("conntrack.maxPerCore", "conntrack-max-per-core", "%d is negative", *c.MaxPerCore)
	}
	if c.Min != nil && *c.Min < 0 {
		v.addf("conntrack.min", "conntrack-min", "%d is negative", *c.Min)
	}
	if c.TCPEstablishedTimeout != nil {
		v.nonNegative("conntrack.tcpEstablishedTimeout", "conntrack-tcp-timeout-established", c.TCPEstablishedTimeout.Duration)
	}
	if c.TCPCloseWaitTimeout != nil {
		v.nonNegative("conntrack.tcpCloseWaitTimeout", "conntrack-tcp-timeout-close-wait", c.TCPCloseWaitTimeout.Duration)
	}
	v.nonNegative("conntrack.udpTimeout", "conntrack-udp-timeout", c.UDPTimeout.Duration)
	v.nonNegative("conntrack.udpStreamTimeout", "conntrack-udp-timeout-stream", c.UDPStreamTimeout.Duration)
}

func (v *validator) positive(field, flag string, d time.Duration) {
	if d <= 0 {
		v.addf(field, flag, "%s must be greater than 0", d)
	}
}

func (v *validator) nonNegative(field, flag string, d time.Duration) {
	if d < 0 {
		v.addf(field, flag, "%s is negative", d)
	}
}

// general checks the settings outside any section.
func (v *validator) general(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) {
	if cfg.OOMScoreAdj != nil && (*cfg.OOMScoreAdj < -1000 || *cfg.OOMScoreAdj > 1000) {
		v.addf("oomScoreAdj", "oom-score-adj", "%d is outside [-1000, 1000]", *cfg.OOMScoreAdj)
	}
	v.positive("configSyncPeriod", "config-sync-period", cfg.ConfigSyncPeriod.Duration)
	if s := cfg.ShowHiddenMetricsForVersion; s != "" && !hiddenMetricsVersion.MatchString(s) {
		v.addf("showHiddenMetricsForVersion", "show-hidden-metrics-for-version", "%q is not of the form <major>.<minor>", s)
	}
	if cfg.ClientConnection.QPS < 0 {
		v.addf("clientConnection.qps", "kube-api-qps", "%v is negative", cfg.ClientConnection.QPS)
	}
	if cfg.ClientConnection.Burst < 0 {
		v.addf("clientConnection.burst", "kube-api-burst", "%d is negative", cfg.ClientConnection.Burst)
	}
	if f := cfg.Logging.Format; f != "" && f != "text" {
		v.addf("logging.format", "", "%q is not supported (kproxy logs as text)", f)
	}
}
