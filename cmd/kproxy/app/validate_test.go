package app

import (
	"strings"
	"testing"
)

func TestInvalidSettings(t *testing.T) {
	// Each case gives either flags or a config body; the error must name
	// both the config field and the flag (when the setting has one).
	tests := []struct {
		name  string
		args  []string
		file  string
		field string
		flag  string
	}{
		{"unknown mode flag", []string{"--proxy-mode=ebpf"}, "", "mode", "--proxy-mode"},
		{"unknown mode in file", nil, "mode: nftables\n", "mode", "--proxy-mode"},
		{"bad cluster CIDR", []string{"--cluster-cidr=10.0.0.0/33"}, "", "clusterCIDR", "--cluster-cidr"},
		{"cluster CIDR not a CIDR", nil, "clusterCIDR: 10.0.0.1\n", "clusterCIDR", "--cluster-cidr"},
		{"two IPv4 cluster CIDRs", []string{"--cluster-cidr=10.0.0.0/8,10.1.0.0/16"}, "", "clusterCIDR", "--cluster-cidr"},
		{"three cluster CIDRs", []string{"--cluster-cidr=10.0.0.0/8,fd00::/64,10.1.0.0/16"}, "", "clusterCIDR", "--cluster-cidr"},
		{"bad node port address", []string{"--nodeport-addresses=10.0.0.0/8,eth0"}, "", "nodePortAddresses", "--nodeport-addresses"},
		{"primary mixed with CIDRs", []string{"--nodeport-addresses=primary,10.0.0.0/8"}, "", "nodePortAddresses", "--nodeport-addresses"},
		{"bad IPVS exclude CIDR", []string{"--proxy-mode=ipvs", "--ipvs-exclude-cidrs=300.0.0.0/8"}, "", "ipvs.excludeCIDRs", "--ipvs-exclude-cidrs"},
		{"bind address with port", []string{"--bind-address=0.0.0.0:80"}, "", "bindAddress", "--bind-address"},
		{"bind address host name", nil, "bindAddress: node1\n", "bindAddress", "--bind-address"},
		{"healthz port out of range", []string{"--healthz-bind-address=0.0.0.0:99999"}, "", "healthzBindAddress", "--healthz-bind-address"},
		{"healthz port zero", []string{"--healthz-bind-address=0.0.0.0:0"}, "", "healthzBindAddress", "--healthz-bind-address"},
		{"metrics host name", []string{"--metrics-bind-address=localhost:10249"}, "", "metricsBindAddress", "--metrics-bind-address"},
		{"metrics without port", nil, "metricsBindAddress: \"127.0.0.1:\"\n", "metricsBindAddress", "--metrics-bind-address"},
		{"iptables min above max", []string{"--iptables-sync-period=10s", "--iptables-min-sync-period=20s"}, "", "iptables.minSyncPeriod", "--iptables-min-sync-period"},
		{"iptables min above max in file", nil, "iptables:\n  syncPeriod: 5s\n  minSyncPeriod: 6s\n", "iptables.minSyncPeriod", "--iptables-sync-period"},
		{"ipvs min above max", []string{"--proxy-mode=ipvs", "--ipvs-sync-period=10s", "--ipvs-min-sync-period=1m"}, "", "ipvs.minSyncPeriod", "--ipvs-min-sync-period"},
		{"zero iptables sync period", []string{"--iptables-sync-period=0"}, "", "iptables.syncPeriod", "--iptables-sync-period"},
		{"negative iptables sync period", []string{"--iptables-sync-period=-1s", "--iptables-min-sync-period=-2s"}, "", "iptables.syncPeriod", "--iptables-sync-period"},
		{"negative iptables min sync period", []string{"--iptables-min-sync-period=-1s"}, "", "iptables.minSyncPeriod", "--iptables-min-sync-period"},
		{"zero ipvs sync period", []string{"--proxy-mode=ipvs", "--ipvs-sync-period=0s"}, "", "ipvs.syncPeriod", "--ipvs-sync-period"},
		{"masquerade bit 32", []string{"--iptables-masquerade-bit=32"}, "", "iptables.masqueradeBit", "--iptables-masquerade-bit"},
		{"masquerade bit negative", nil, "iptables:\n  masqueradeBit: -1\n", "iptables.masqueradeBit", "--iptables-masquerade-bit"},
		{"port range reversed", []string{"--proxy-port-range=30100-30000"}, "", "portRange", "--proxy-port-range"},
		{"port range words", []string{"--proxy-port-range=low-high"}, "", "portRange", "--proxy-port-range"},
		{"port range too high", nil, "portRange: 65000+1000\n", "portRange", "--proxy-port-range"},
		{"unknown IPVS scheduler", []string{"--proxy-mode=ipvs", "--ipvs-scheduler=fastest"}, "", "ipvs.scheduler", "--ipvs-scheduler"},
		{"unknown IPVS scheduler in file", nil, "mode: ipvs\nipvs:\n  scheduler: RR\n", "ipvs.scheduler", "--ipvs-scheduler"},
		{"negative IPVS timeout", []string{"--proxy-mode=ipvs", "--ipvs-udp-timeout=-1s"}, "", "ipvs.udpTimeout", "--ipvs-udp-timeout"},
		{"negative conntrack min", []string{"--conntrack-min=-1"}, "", "conntrack.min", "--conntrack-min"},
		{"negative conntrack timeout", []string{"--conntrack-tcp-timeout-close-wait=-1s"}, "", "conntrack.tcpCloseWaitTimeout", "--conntrack-tcp-timeout-close-wait"},
		{"OOM score out of range", []string{"--oom-score-adj=1001"}, "", "oomScoreAdj", "--oom-score-adj"},
		{"zero config sync period", []string{"--config-sync-period=0"}, "", "configSyncPeriod", "--config-sync-period"},
		{"zero UDP idle timeout", []string{"--udp-timeout=0"}, "", "udpIdleTimeout", "--udp-timeout"},
		{"unknown detect-local mode", []string{"--detect-local-mode=Magic"}, "", "detectLocalMode", "--detect-local-mode"},
		{"bridge mode without bridge", []string{"--detect-local-mode=BridgeInterface"}, "", "detectLocal.bridgeInterface", "--pod-bridge-interface"},
		{"prefix mode without prefix", nil, "detectLocalMode: InterfaceNamePrefix\n", "detectLocal.interfaceNamePrefix", "--pod-interface-name-prefix"},
		{"bad hidden metrics version", []string{"--show-hidden-metrics-for-version=v1.36"}, "", "showHiddenMetricsForVersion", "--show-hidden-metrics-for-version"},
		{"negative API burst", []string{"--kube-api-burst=-1"}, "", "clientConnection.burst", "--kube-api-burst"},
		{"JSON logging", nil, "logging:\n  format: json\n", "logging.format", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{withConfig(t, tt.file)}, args...)
			}
			_, err := parseArgs(args...)
			parts := []string{tt.field}
			if tt.flag != "" {
				parts = append(parts, tt.flag)
			}
			wantErrContaining(t, err, parts...)
		})
	}
}

func TestValidateReportsEverySetting(t *testing.T) {
	_, err := parseArgs("--proxy-mode=ipvs", "--ipvs-scheduler=x", "--iptables-masquerade-bit=40", "--cluster-cidr=nope")
	wantErrContaining(t, err, "ipvs.scheduler", "iptables.masqueradeBit", "clusterCIDR")
	if n := strings.Count(err.Error(), "; "); n != 2 {
		t.Errorf("want 3 errors joined by '; ', got %q", err)
	}
}

func TestIPVSSectionCheckedOnlyInIPVSMode(t *testing.T) {
	// As kube-proxy: a config meant for ipvs mode stays usable in iptables mode.
	if _, err := parseArgs("--ipvs-scheduler=fastest", "--ipvs-sync-period=0"); err != nil {
		t.Errorf("iptables mode rejected an ipvs-only setting: %v", err)
	}
}

func TestValidEdgeCases(t *testing.T) {
	for _, args := range [][]string{
		{"--cluster-cidr=fd00:10:244::/56,10.244.0.0/16"},
		{"--cluster-cidr=10.244.0.1/16"},
		{"--proxy-port-range=0-0"},
		{"--proxy-port-range=30000"},
		{"--iptables-masquerade-bit=31"},
		{"--iptables-min-sync-period=30s", "--iptables-sync-period=30s"},
		{"--oom-score-adj=-1000"},
		{"--detect-local-mode=BridgeInterface", "--pod-bridge-interface=cbr0"},
		{"--metrics-bind-address=[::1]:10249"},
		{"--proxy-mode=ipvs", "--ipvs-scheduler=mh"},
		{"--proxy-mode=userspace"},
	} {
		if _, err := parseArgs(args...); err != nil {
			t.Errorf("Parse(%q): %v", args, err)
		}
	}
}
