package app

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	o := mustParse(t)
	c := &o.Config
	checks := []struct {
		name      string
		got, want any
	}{
		{"mode", c.Mode, ModeIPTables},
		{"bindAddress", c.BindAddress, "0.0.0.0"},
		{"healthzBindAddress", c.HealthzBindAddress, "0.0.0.0:10256"},
		{"metricsBindAddress", c.MetricsBindAddress, "127.0.0.1:10249"},
		{"iptables.syncPeriod", c.IPTables.SyncPeriod.Duration, 30 * time.Second},
		{"iptables.minSyncPeriod", c.IPTables.MinSyncPeriod.Duration, time.Second},
		{"iptables.masqueradeBit", *c.IPTables.MasqueradeBit, int32(14)},
		{"iptables.masqueradeAll", c.IPTables.MasqueradeAll, false},
		{"iptables.localhostNodePorts", *c.IPTables.LocalhostNodePorts, true},
		{"ipvs.syncPeriod", c.IPVS.SyncPeriod.Duration, 30 * time.Second},
		{"ipvs.minSyncPeriod", c.IPVS.MinSyncPeriod.Duration, time.Duration(0)},
		{"ipvs.scheduler", c.IPVS.Scheduler, "rr"},
		{"conntrack.maxPerCore", *c.Conntrack.MaxPerCore, int32(32768)},
		{"conntrack.min", *c.Conntrack.Min, int32(131072)},
		{"conntrack.tcpEstablishedTimeout", c.Conntrack.TCPEstablishedTimeout.Duration, 24 * time.Hour},
		{"conntrack.tcpCloseWaitTimeout", c.Conntrack.TCPCloseWaitTimeout.Duration, time.Hour},
		{"configSyncPeriod", c.ConfigSyncPeriod.Duration, 15 * time.Minute},
		{"oomScoreAdj", *c.OOMScoreAdj, int32(-999)},
		{"detectLocalMode", c.DetectLocalMode, LocalModeClusterCIDR},
		{"clusterCIDR", c.ClusterCIDR, ""},
		{"portRange", o.PortRange(), PortRange{}},
		{"udpIdleTimeout", o.UDPIdleTimeout, 250 * time.Millisecond},
		{"nodeName", o.NodeName, "test-node.example"},
		{"apiVersion", c.APIVersion, "kubeproxy.config.k8s.io/v1alpha1"},
		{"kind", c.Kind, "KubeProxyConfiguration"},
		{"cleanup", o.Cleanup, false},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if minP, maxP := o.SyncPeriods(); minP != time.Second || maxP != 30*time.Second {
		t.Errorf("SyncPeriods() = %v, %v; want 1s, 30s", minP, maxP)
	}
}

func TestFlagsOnly(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o *Options)
	}{
		{"empty mode means iptables", []string{"--proxy-mode="}, func(t *testing.T, o *Options) {
			equal(t, "mode", o.Config.Mode, ModeIPTables)
		}},
		{"ipvs mode and its knobs", []string{"--proxy-mode=ipvs", "--ipvs-sync-period=10s", "--ipvs-min-sync-period=2s",
			"--ipvs-scheduler=sh", "--ipvs-strict-arp", "--ipvs-exclude-cidrs=10.1.0.0/16,fd00::/64",
			"--ipvs-tcp-timeout=1m", "--ipvs-tcpfin-timeout=10s", "--ipvs-udp-timeout=20s"}, func(t *testing.T, o *Options) {
			ipvs := o.Config.IPVS
			equal(t, "mode", o.Config.Mode, ModeIPVS)
			equal(t, "scheduler", ipvs.Scheduler, "sh")
			equal(t, "strictARP", ipvs.StrictARP, true)
			equal(t, "excludeCIDRs", ipvs.ExcludeCIDRs, []string{"10.1.0.0/16", "fd00::/64"})
			equal(t, "tcpTimeout", ipvs.TCPTimeout.Duration, time.Minute)
			equal(t, "tcpFinTimeout", ipvs.TCPFinTimeout.Duration, 10*time.Second)
			equal(t, "udpTimeout", ipvs.UDPTimeout.Duration, 20*time.Second)
			minP, maxP := o.SyncPeriods()
			equal(t, "SyncPeriods", []time.Duration{minP, maxP}, []time.Duration{2 * time.Second, 10 * time.Second})
		}},
		{"userspace mode uses the iptables periods", []string{"--proxy-mode=userspace", "--iptables-sync-period=1m",
			"--iptables-min-sync-period=0", "--proxy-port-range=30000+100", "--udp-timeout=2s"}, func(t *testing.T, o *Options) {
			minP, maxP := o.SyncPeriods()
			equal(t, "SyncPeriods", []time.Duration{minP, maxP}, []time.Duration{0, time.Minute})
			equal(t, "PortRange", o.PortRange(), PortRange{Base: 30000, Size: 101})
			equal(t, "udpIdleTimeout", o.UDPIdleTimeout, 2*time.Second)
		}},
		{"iptables knobs", []string{"--masquerade-all", "--iptables-masquerade-bit=0", "--iptables-localhost-nodeports=false"}, func(t *testing.T, o *Options) {
			equal(t, "masqueradeAll", o.Config.IPTables.MasqueradeAll, true)
			equal(t, "masqueradeBit", *o.Config.IPTables.MasqueradeBit, int32(0))
			equal(t, "localhostNodePorts", *o.Config.IPTables.LocalhostNodePorts, false)
		}},
		{"client and program flags", []string{"--kubeconfig=/k.conf", "--master=https://10.0.0.1:6443", "--cleanup",
			"--kube-api-qps=50", "--kube-api-burst=100", "--config-sync-period=1m"}, func(t *testing.T, o *Options) {
			equal(t, "kubeconfig", o.Config.ClientConnection.Kubeconfig, "/k.conf")
			equal(t, "master", o.Master, "https://10.0.0.1:6443")
			equal(t, "cleanup", o.Cleanup, true)
			equal(t, "qps", o.Config.ClientConnection.QPS, float32(50))
			equal(t, "burst", o.Config.ClientConnection.Burst, int32(100))
			equal(t, "configSyncPeriod", o.Config.ConfigSyncPeriod.Duration, time.Minute)
		}},
		{"dual-stack cluster CIDR", []string{"--cluster-cidr=10.244.0.0/16,fd00:10:244::/56"}, func(t *testing.T, o *Options) {
			got := o.ClusterCIDRs()
			if len(got) != 2 || got[0].String() != "10.244.0.0/16" || got[1].String() != "fd00:10:244::/56" {
				t.Errorf("ClusterCIDRs() = %v", got)
			}
		}},
		{"node port addresses", []string{"--nodeport-addresses=10.0.0.0/8", "--nodeport-addresses=fd00::/64"}, func(t *testing.T, o *Options) {
			equal(t, "nodePortAddresses", o.Config.NodePortAddresses, []string{"10.0.0.0/8", "fd00::/64"})
		}},
		{"primary node port addresses", []string{"--nodeport-addresses=primary"}, func(t *testing.T, o *Options) {
			equal(t, "nodePortAddresses", o.Config.NodePortAddresses, []string{"primary"})
		}},
		{"listen addresses, bare IPs get default ports", []string{"--bind-address=::", "--healthz-bind-address=::1",
			"--metrics-bind-address=0.0.0.0"}, func(t *testing.T, o *Options) {
			equal(t, "bindAddress", o.Config.BindAddress, "::")
			equal(t, "healthz", o.Config.HealthzBindAddress, "[::1]:10256")
			equal(t, "metrics", o.Config.MetricsBindAddress, "0.0.0.0:10249")
		}},
		{"empty listen addresses disable the servers", []string{"--healthz-bind-address=", "--metrics-bind-address="}, func(t *testing.T, o *Options) {
			equal(t, "healthz", o.Config.HealthzBindAddress, "")
			equal(t, "metrics", o.Config.MetricsBindAddress, "")
		}},
		{"conntrack flags", []string{"--conntrack-max-per-core=0", "--conntrack-min=1000", "--conntrack-tcp-be-liberal",
			"--conntrack-tcp-timeout-established=2h", "--conntrack-tcp-timeout-close-wait=30s",
			"--conntrack-udp-timeout=30s", "--conntrack-udp-timeout-stream=3m"}, func(t *testing.T, o *Options) {
			c := o.Config.Conntrack
			equal(t, "maxPerCore", *c.MaxPerCore, int32(0))
			equal(t, "min", *c.Min, int32(1000))
			equal(t, "tcpBeLiberal", c.TCPBeLiberal, true)
			equal(t, "established", c.TCPEstablishedTimeout.Duration, 2*time.Hour)
			equal(t, "closeWait", c.TCPCloseWaitTimeout.Duration, 30*time.Second)
			equal(t, "udp", c.UDPTimeout.Duration, 30*time.Second)
			equal(t, "udpStream", c.UDPStreamTimeout.Duration, 3*time.Minute)
		}},
		{"local detection", []string{"--detect-local-mode=InterfaceNamePrefix", "--pod-interface-name-prefix=veth"}, func(t *testing.T, o *Options) {
			equal(t, "detectLocalMode", o.Config.DetectLocalMode, LocalModeInterfaceNamePrefix)
			equal(t, "prefix", o.Config.DetectLocal.InterfaceNamePrefix, "veth")
		}},
		{"misc stored flags", []string{"--oom-score-adj=-500", "--feature-gates=A=true,B=false", "--feature-gates=C=true",
			"--show-hidden-metrics-for-version=1.36", "--profiling", "--bind-address-hard-fail"}, func(t *testing.T, o *Options) {
			equal(t, "oomScoreAdj", *o.Config.OOMScoreAdj, int32(-500))
			equal(t, "featureGates", o.Config.FeatureGates, map[string]bool{"A": true, "B": false, "C": true})
			equal(t, "showHidden", o.Config.ShowHiddenMetricsForVersion, "1.36")
			equal(t, "profiling", o.Config.EnableProfiling, true)
			equal(t, "hardFail", o.Config.BindAddressHardFail, true)
		}},
		{"write-config-to", []string{"--write-config-to=/tmp/x.yaml"}, func(t *testing.T, o *Options) {
			equal(t, "writeConfigTo", o.WriteConfigTo, "/tmp/x.yaml")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, tt.args...))
		})
	}
}

func TestConfigFileOnly(t *testing.T) {
	o := mustParse(t, "--config=testdata/ipvs-dualstack.yaml")
	c := &o.Config
	checks := []struct {
		name      string
		got, want any
	}{
		{"mode", c.Mode, ModeIPVS},
		{"nodeName", o.NodeName, "worker-1"},
		{"bindAddress", c.BindAddress, "192.168.0.10"},
		{"metrics", c.MetricsBindAddress, "0.0.0.0:9249"},
		{"kubeconfig", c.ClientConnection.Kubeconfig, "/etc/kproxy/kubeconfig"},
		{"qps", c.ClientConnection.QPS, float32(20)},
		{"contentType default", c.ClientConnection.ContentType, "application/vnd.kubernetes.protobuf"},
		{"configSyncPeriod", c.ConfigSyncPeriod.Duration, 5 * time.Minute},
		{"featureGates", c.FeatureGates, map[string]bool{"SomeAlphaGate": true, "OtherGate": false}},
		{"masqueradeAll", c.IPTables.MasqueradeAll, true},
		{"masqueradeBit", *c.IPTables.MasqueradeBit, int32(10)},
		{"scheduler", c.IPVS.Scheduler, "wlc"},
		{"excludeCIDRs", c.IPVS.ExcludeCIDRs, []string{"10.99.0.0/16"}},
		{"ipvs tcpTimeout", c.IPVS.TCPTimeout.Duration, 15 * time.Minute},
		{"conntrack maxPerCore", *c.Conntrack.MaxPerCore, int32(0)},
		{"conntrack established", c.Conntrack.TCPEstablishedTimeout.Duration, 12 * time.Hour},
		{"nodePortAddresses", c.NodePortAddresses, []string{"192.168.0.0/24", "fd00::/64"}},
		{"detectLocalMode", c.DetectLocalMode, LocalModeNodeCIDR},
		{"oomScoreAdj", *c.OOMScoreAdj, int32(-500)},
		{"portRange", o.PortRange(), PortRange{Base: 30000, Size: 101}},
		{"verbosity", uint32(c.Logging.Verbosity), uint32(2)},
		{"configFile", o.ConfigFile, "testdata/ipvs-dualstack.yaml"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if minP, maxP := o.SyncPeriods(); minP != 5*time.Second || maxP != 45*time.Second {
		t.Errorf("SyncPeriods() = %v, %v; want the ipvs section's 5s, 45s", minP, maxP)
	}
	if got := o.ClusterCIDRs(); len(got) != 2 {
		t.Errorf("ClusterCIDRs() = %v, want a dual-stack pair", got)
	}
	resetVerbosity(t)
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		args  []string
		check func(t *testing.T, o *Options)
	}{
		{"explicit flag beats file", "mode: ipvs\nipvs:\n  scheduler: wlc\n", []string{"--ipvs-scheduler=lc"}, func(t *testing.T, o *Options) {
			equal(t, "scheduler", o.Config.IPVS.Scheduler, "lc")
			equal(t, "mode", o.Config.Mode, ModeIPVS)
		}},
		{"file beats flag default", "iptables:\n  syncPeriod: 1m\n  masqueradeBit: 9\n", nil, func(t *testing.T, o *Options) {
			equal(t, "syncPeriod", o.Config.IPTables.SyncPeriod.Duration, time.Minute)
			equal(t, "masqueradeBit", *o.Config.IPTables.MasqueradeBit, int32(9))
		}},
		{"flag equal to the default still beats file", "iptables:\n  masqueradeBit: 9\n", []string{"--iptables-masquerade-bit=14"}, func(t *testing.T, o *Options) {
			equal(t, "masqueradeBit", *o.Config.IPTables.MasqueradeBit, int32(14))
		}},
		{"flag mode beats file mode", "mode: ipvs\n", []string{"--proxy-mode=iptables"}, func(t *testing.T, o *Options) {
			equal(t, "mode", o.Config.Mode, ModeIPTables)
		}},
		{"zero in file means default, zero flag means zero", "iptables:\n  minSyncPeriod: 0s\nipvs:\n  minSyncPeriod: 0s\n", nil, func(t *testing.T, o *Options) {
			equal(t, "iptables.minSyncPeriod", o.Config.IPTables.MinSyncPeriod.Duration, time.Second)
		}},
		{"zero flag overrides file", "iptables:\n  minSyncPeriod: 5s\n", []string{"--iptables-min-sync-period=0s"}, func(t *testing.T, o *Options) {
			equal(t, "iptables.minSyncPeriod", o.Config.IPTables.MinSyncPeriod.Duration, time.Duration(0))
		}},
		{"list flag replaces file list", "nodePortAddresses: [10.0.0.0/8]\n", []string{"--nodeport-addresses=192.168.0.0/16"}, func(t *testing.T, o *Options) {
			equal(t, "nodePortAddresses", o.Config.NodePortAddresses, []string{"192.168.0.0/16"})
		}},
		{"file list kept without flag", "ipvs:\n  excludeCIDRs: [10.0.0.0/8]\n", []string{"--ipvs-strict-arp"}, func(t *testing.T, o *Options) {
			equal(t, "excludeCIDRs", o.Config.IPVS.ExcludeCIDRs, []string{"10.0.0.0/8"})
			equal(t, "strictARP", o.Config.IPVS.StrictARP, true)
		}},
		{"feature gates merge per gate", "featureGates:\n  A: true\n  B: true\n", []string{"--feature-gates=B=false,C=true"}, func(t *testing.T, o *Options) {
			equal(t, "featureGates", o.Config.FeatureGates, map[string]bool{"A": true, "B": false, "C": true})
		}},
		{"kubeconfig flag beats file", "clientConnection:\n  kubeconfig: /file\n", []string{"--kubeconfig=/flag"}, func(t *testing.T, o *Options) {
			equal(t, "kubeconfig", o.Config.ClientConnection.Kubeconfig, "/flag")
		}},
		{"kubeconfig from file", "clientConnection:\n  kubeconfig: /file\n", []string{"--master=https://a:6443"}, func(t *testing.T, o *Options) {
			equal(t, "kubeconfig", o.Config.ClientConnection.Kubeconfig, "/file")
			equal(t, "master", o.Master, "https://a:6443")
		}},
		{"hostname flag beats file", "hostnameOverride: from-file\n", []string{"--hostname-override=From-Flag"}, func(t *testing.T, o *Options) {
			equal(t, "nodeName", o.NodeName, "from-flag")
		}},
		{"cluster CIDR flag beats file", "clusterCIDR: 10.0.0.0/8\n", []string{"--cluster-cidr=10.244.0.0/16"}, func(t *testing.T, o *Options) {
			equal(t, "clusterCIDR", o.Config.ClusterCIDR, "10.244.0.0/16")
		}},
		{"empty flag beats file", "metricsBindAddress: 0.0.0.0:9000\n", []string{"--metrics-bind-address="}, func(t *testing.T, o *Options) {
			equal(t, "metrics", o.Config.MetricsBindAddress, "")
		}},
		{"healthz default follows an IPv6 bind address", "bindAddress: \"fd00::1\"\n", nil, func(t *testing.T, o *Options) {
			equal(t, "healthz", o.Config.HealthzBindAddress, "[::]:10256")
			equal(t, "metrics", o.Config.MetricsBindAddress, "[::1]:10249")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{withConfig(t, tt.file)}, tt.args...)
			tt.check(t, mustParse(t, args...))
		})
	}
}

func TestNodeName(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		hostname func() (string, error)
		want     string
		wantErr  string
	}{
		{"host name lowercased", nil, func() (string, error) { return " MyHost ", nil }, "myhost", ""},
		{"override lowercased", []string{"--hostname-override=Node-A"}, fakeHostname, "node-a", ""},
		{"blank override", []string{"--hostname-override=  "}, fakeHostname, "", "--hostname-override"},
		{"host name lookup fails", nil, func() (string, error) { return "", errors.New("boom") }, "", "--hostname-override"},
		{"empty host name", nil, func() (string, error) { return "", nil }, "", "--hostname-override"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(tt.args, tt.hostname)
			if tt.wantErr != "" {
				wantErrContaining(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "nodeName", o.NodeName, tt.want)
		})
	}
}

func TestVerbosity(t *testing.T) {
	resetVerbosity(t)
	for _, flag := range []string{"-v=4", "--v=4", "-v4"} {
		o := mustParse(t, flag)
		equal(t, flag+" logging.verbosity", uint32(o.Config.Logging.Verbosity), uint32(4))
		if !klogV(4) {
			t.Errorf("%s: klog V(4) not enabled", flag)
		}
		resetVerbosity(t)
	}
	o := mustParse(t, withConfig(t, "logging:\n  verbosity: 3\n"))
	equal(t, "file verbosity", uint32(o.Config.Logging.Verbosity), uint32(3))
	if !klogV(3) || klogV(4) {
		t.Errorf("klog verbosity does not follow logging.verbosity 3 from the file")
	}
	resetVerbosity(t)
	o = mustParse(t, withConfig(t, "logging:\n  verbosity: 3\n"), "-v=1")
	equal(t, "-v beats file", uint32(o.Config.Logging.Verbosity), uint32(1))
	resetVerbosity(t)
}

func TestVersionStopsEarly(t *testing.T) {
	o := mustParse(t, "--version", "--config=/does/not/exist")
	if !o.ShowVersion {
		t.Fatal("ShowVersion not set")
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--proxy-mode=ipvs", "--help"}} {
		if _, err := parseArgs(args...); !errors.Is(err, ErrHelp) {
			t.Errorf("Parse(%q) = %v, want ErrHelp", args, err)
		}
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown long flag", []string{"--no-such-flag"}, "--no-such-flag"},
		{"unknown shorthand", []string{"-x"}, "'x'"},
		{"bad duration", []string{"--iptables-sync-period=soon"}, "--iptables-sync-period"},
		{"bad int", []string{"--iptables-masquerade-bit=lots"}, "--iptables-masquerade-bit"},
		{"bad bool", []string{"--masquerade-all=maybe"}, "--masquerade-all"},
		{"bad feature gate", []string{"--feature-gates=A"}, "--feature-gates"},
		{"bad feature gate value", []string{"--feature-gates=A=yes please"}, "--feature-gates"},
		{"missing value", []string{"--config"}, "--config"},
		{"positional argument", []string{"run"}, `"run"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseArgs(tt.args...)
			wantErrContaining(t, err, tt.want, "kproxy --help")
		})
	}
}

// equal reports a mismatch between got and want.
func equal(t *testing.T, name string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", name, got, want)
	}
}
