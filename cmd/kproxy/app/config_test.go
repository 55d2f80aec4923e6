package app

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // written to a file unless path is set
		path    string
		want    []string
	}{
		{"missing file", "", filepath.Join(dir, "nope.yaml"), []string{"--config", "nope.yaml"}},
		{"directory", "", dir, []string{"--config"}},
		{"unknown field", configHeader + "mode: ipvs\nipvsScheduler: rr\n", "", []string{"--config", `"ipvsScheduler"`}},
		{"unknown nested field", configHeader + "iptables:\n  syncperiod: 1s\n", "", []string{`"iptables.syncperiod"`}},
		{"field with wrong case", configHeader + "Mode: ipvs\n", "", []string{`"Mode"`}},
		{"duplicate field", configHeader + "mode: ipvs\nmode: iptables\n", "", []string{"--config", "mode"}},
		{"wrong apiVersion", "apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n", "", []string{"apiVersion", "v1alpha2"}},
		{"missing apiVersion", "kind: KubeProxyConfiguration\nmode: ipvs\n", "", []string{"apiVersion"}},
		{"wrong kind", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n", "", []string{"kind", "KubeletConfiguration"}},
		{"wrong type", configHeader + "iptables:\n  masqueradeBit: fourteen\n", "", []string{"masqueradeBit"}},
		{"bad duration", configHeader + "configSyncPeriod: often\n", "", []string{"--config", "often"}},
		{"not YAML", "apiVersion: [unclosed\n", "", []string{"--config", "YAML"}},
		{"empty file", "", "", []string{"apiVersion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = writeConfig(t, tt.content)
			}
			_, err := parseArgs("--config=" + path)
			wantErrContaining(t, err, tt.want...)
		})
	}
}

func TestKubeadmConfig(t *testing.T) {
	o := mustParse(t, "--config=testdata/kubeadm-config.conf", "--hostname-override=worker-0")
	c := &o.Config
	equal(t, "kubeconfig", c.ClientConnection.Kubeconfig, "/var/lib/kube-proxy/kubeconfig.conf")
	equal(t, "clusterCIDR", c.ClusterCIDR, "10.244.0.0/16")
	equal(t, "mode", c.Mode, ModeIPTables)
	equal(t, "nodeName", o.NodeName, "worker-0")
	equal(t, "healthz", c.HealthzBindAddress, "0.0.0.0:10256")
	equal(t, "metrics", c.MetricsBindAddress, "127.0.0.1:10249")
	equal(t, "masqueradeBit", *c.IPTables.MasqueradeBit, int32(14))
	equal(t, "conntrack.maxPerCore", *c.Conntrack.MaxPerCore, int32(32768))
	equal(t, "qps", c.ClientConnection.QPS, float32(5))
	equal(t, "configSyncPeriod", c.ConfigSyncPeriod.Duration, 15*time.Minute)
	equal(t, "oomScoreAdj", *c.OOMScoreAdj, int32(-999))
	equal(t, "logging.flushFrequency", c.Logging.FlushFrequency.Duration.Duration, 5*time.Second)
	minP, maxP := o.SyncPeriods()
	equal(t, "SyncPeriods", []time.Duration{minP, maxP}, []time.Duration{time.Second, 30 * time.Second})
}

func TestKubeadmConfigWithIPVSFlag(t *testing.T) {
	// kubeadm users often switch modes on the command line.
	o := mustParse(t, "--config=testdata/kubeadm-config.conf", "--proxy-mode=ipvs")
	minP, maxP := o.SyncPeriods()
	equal(t, "SyncPeriods", []time.Duration{minP, maxP}, []time.Duration{0, 30 * time.Second})
	equal(t, "scheduler", o.Config.IPVS.Scheduler, "rr")
}

func TestWriteConfigRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"defaults", nil},
		{"flags", []string{"--proxy-mode=ipvs", "--ipvs-scheduler=sh", "--cluster-cidr=10.0.0.0/8,fd00::/48",
			"--nodeport-addresses=primary", "--iptables-min-sync-period=2s", "--feature-gates=X=true",
			"--conntrack-tcp-timeout-established=0", "--healthz-bind-address=::1", "--kubeconfig=/k", "-v=2"}},
		{"file and flags", []string{"--config=testdata/ipvs-dualstack.yaml", "--ipvs-sync-period=1m"}},
		{"kubeadm file", []string{"--config=testdata/kubeadm-config.conf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resetVerbosity(t)
			path := filepath.Join(t.TempDir(), "out.yaml")
			first := mustParse(t, append(tt.args, "--write-config-to="+path)...)
			if err := first.WriteConfig(); err != nil {
				t.Fatal(err)
			}
			second := mustParse(t, "--config="+path)
			a, err := MarshalConfig(&first.Config)
			if err != nil {
				t.Fatal(err)
			}
			b, err := MarshalConfig(&second.Config)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("config changed on the round trip:\nwritten:\n%s\nread back:\n%s", a, b)
			}
			written, _ := os.ReadFile(path)
			if !bytes.Equal(written, a) {
				t.Errorf("file content differs from MarshalConfig")
			}
		})
	}
}

func TestWrittenZeroReadsAsDefault(t *testing.T) {
	// As with kube-proxy, a zero or empty value in a config file means "use
	// the default", so these flag values do not survive a trip through
	// --write-config-to and --config. Flags keep working on top of the file.
	path := filepath.Join(t.TempDir(), "out.yaml")
	o := mustParse(t, "--iptables-min-sync-period=0", "--metrics-bind-address=", "--write-config-to="+path)
	if err := o.WriteConfig(); err != nil {
		t.Fatal(err)
	}
	back := mustParse(t, "--config="+path)
	equal(t, "iptables.minSyncPeriod", back.Config.IPTables.MinSyncPeriod.Duration, time.Second)
	equal(t, "metricsBindAddress", back.Config.MetricsBindAddress, "127.0.0.1:10249")
	again := mustParse(t, "--config="+path, "--iptables-min-sync-period=0", "--metrics-bind-address=")
	equal(t, "iptables.minSyncPeriod with flag", again.Config.IPTables.MinSyncPeriod.Duration, time.Duration(0))
	equal(t, "metricsBindAddress with flag", again.Config.MetricsBindAddress, "")
}

func TestWriteConfigError(t *testing.T) {
	o := mustParse(t, "--write-config-to="+filepath.Join(t.TempDir(), "no", "such", "dir.yaml"))
	wantErrContaining(t, o.WriteConfig(), "--write-config-to")
}

func TestDecodeConfigIgnoresDefaults(t *testing.T) {
	cfg, err := DecodeConfig([]byte(configHeader + "mode: ipvs\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != ModeIPVS || cfg.IPTables.MasqueradeBit != nil {
		t.Errorf("DecodeConfig applied defaults or lost fields: %+v", cfg)
	}
}
