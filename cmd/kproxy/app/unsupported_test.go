package app

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	logsapi "k8s.io/component-base/logs/api/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	"sigs.k8s.io/yaml"
)

// kubeadmConfig is the config.conf of kubeadm's kube-proxy ConfigMap.
const kubeadmConfig = "testdata/kubeadm-config.conf"

// fieldCase sets one field of kubeadm's config to a value other than its
// default and says in which modes kproxy honours it; in the others it must be
// reported as unsupported.
type fieldCase struct {
	path  string
	value string // YAML; "" when no valid value differs from the default
	modes string // modes that honour it: "all", "" for none, or a list
}

// fieldCases covers every field of kubeadm's config (and of the API);
// TestKubeadmFieldsAreClassified fails when one is missing.
var fieldCases = []fieldCase{
	{"apiVersion", "", "all"},
	{"kind", "", "all"},
	{"featureGates", "{SomeGate: true}", ""},
	{"clientConnection.kubeconfig", "/etc/kproxy/kubeconfig", "all"},
	{"clientConnection.acceptContentTypes", "application/json", "all"},
	{"clientConnection.contentType", "application/json", "all"},
	{"clientConnection.qps", "50", "all"},
	{"clientConnection.burst", "100", "all"},
	{"logging.format", "", "all"}, // validate.go rejects all but text, the default
	{"logging.flushFrequency", "10s", ""},
	{"logging.verbosity", "3", "all"},
	{"logging.vmodule", "[{filePattern: 'proxy*', verbosity: 4}]", ""},
	{"logging.options.text.splitStream", "true", ""},
	{"logging.options.text.infoBufferSize", "1Mi", ""},
	{"logging.options.json.splitStream", "true", ""},
	{"logging.options.json.infoBufferSize", "1Mi", ""},
	{"hostnameOverride", "Node-A", "all"},
	{"bindAddress", "10.0.0.1", "userspace"},
	{"bindAddress", "'::'", "all"},
	{"healthzBindAddress", "127.0.0.1:10266", "all"},
	{"metricsBindAddress", "0.0.0.0:10249", "all"},
	{"bindAddressHardFail", "true", "all"},
	{"enableProfiling", "true", ""},
	{"showHiddenMetricsForVersion", "'1.36'", ""},
	{"mode", "ipvs", "all"},
	{"iptables.masqueradeBit", "15", "iptables ipvs"},
	{"iptables.masqueradeAll", "true", "iptables ipvs"},
	{"iptables.localhostNodePorts", "false", "iptables"},
	{"iptables.syncPeriod", "31s", "iptables userspace"},
	{"iptables.minSyncPeriod", "2s", "iptables userspace"},
	{"ipvs.syncPeriod", "31s", "ipvs"},
	{"ipvs.minSyncPeriod", "1s", "ipvs"},
	{"ipvs.scheduler", "wrr", "ipvs"},
	{"ipvs.excludeCIDRs", "[10.0.0.0/8]", "ipvs"},
	{"ipvs.strictARP", "true", "ipvs"},
	{"ipvs.tcpTimeout", "900s", "ipvs"},
	{"ipvs.tcpFinTimeout", "30s", "ipvs"},
	{"ipvs.udpTimeout", "30s", "ipvs"},
	{"nftables.masqueradeBit", "15", ""},
	{"nftables.masqueradeAll", "true", ""},
	{"nftables.syncPeriod", "31s", ""},
	{"nftables.minSyncPeriod", "2s", ""},
	{"winkernel.networkName", "l2bridge", ""},
	{"winkernel.sourceVip", "10.0.0.1", ""},
	{"winkernel.enableDSR", "true", ""},
	{"winkernel.rootHnsEndpointName", "cbr0", ""},
	{"winkernel.forwardHealthCheckVip", "true", ""},
	{"detectLocalMode", "NodeCIDR", ""},
	{"detectLocal.bridgeInterface", "cbr0", ""},
	{"detectLocal.interfaceNamePrefix", "veth", ""},
	{"clusterCIDR", "10.245.0.0/16,fd00:10::/48", "all"},
	{"nodePortAddresses", "[10.0.0.0/8]", "all"},
	{"nodePortAddresses", "[primary]", ""},
	{"oomScoreAdj", "-500", ""},
	{"conntrack.maxPerCore", "65536", ""},
	{"conntrack.min", "262144", ""},
	{"conntrack.tcpEstablishedTimeout", "1h", ""},
	{"conntrack.tcpCloseWaitTimeout", "2h", ""},
	{"conntrack.tcpBeLiberal", "true", ""},
	{"conntrack.udpTimeout", "30s", ""},
	{"conntrack.udpStreamTimeout", "120s", ""},
	{"configSyncPeriod", "5m", "all"},
	{"portRange", "30000-30100", "userspace"},
	{"windowsRunAsService", "true", ""},
}

// honoured reports whether c says kproxy honours the field in mode m.
func (c fieldCase) honoured(m kubeproxyconfigv1alpha1.ProxyMode) bool {
	return c.modes == "all" || slices.Contains(strings.Fields(c.modes), string(m))
}

// allModes are the modes every case runs in.
var allModes = []kubeproxyconfigv1alpha1.ProxyMode{ModeIPTables, ModeIPVS, ModeUserspace}

// TestKubeadmFieldsAreClassified requires every field kubeadm's config file
// sets to be in configFields, with a place where kproxy uses it or a reason
// it is ignored, and to have a case in fieldCases.
func TestKubeadmFieldsAreClassified(t *testing.T) {
	paths := filePaths(t, kubeadmConfig)
	if len(paths) < 50 {
		t.Fatalf("found only %d fields in %s; kubeadm writes every field", len(paths), kubeadmConfig)
	}
	for _, p := range paths {
		i := slices.IndexFunc(configFields, func(cf configField) bool { return cf.path == p })
		if i < 0 {
			t.Errorf("kubeadm's config sets %q, which is neither honoured nor reported as unsupported: add it to configFields (unsupported_fields.go)", p)
			continue
		}
		if !slices.ContainsFunc(fieldCases, func(c fieldCase) bool { return c.path == p }) {
			t.Errorf("kubeadm's config sets %q, which has no case in fieldCases", p)
		}
	}
}

// TestConfigFieldsMatchTheAPI compares configFields with every field of the
// v1alpha1 type, so a field added upstream fails here even before kubeadm
// writes it, and checks that each entry either says where it is used or
// ignores the field everywhere.
func TestConfigFieldsMatchTheAPI(t *testing.T) {
	cfg := newDefaultConfig()
	// Set the fields the type leaves out when empty.
	cfg.FeatureGates = map[string]bool{"SomeGate": true}
	cfg.WindowsRunAsService = true
	cfg.Logging.VModule = logsapi.VModuleConfiguration{{FilePattern: "x", Verbosity: 1}}
	cfg.Logging.Options.Text.SplitStream = true
	cfg.Logging.Options.JSON.SplitStream = true
	api := sortedKeys(leafValues(&cfg))
	var table []string
	for _, cf := range configFields {
		table = append(table, cf.path)
		honoured := slices.ContainsFunc(allModes, func(m kubeproxyconfigv1alpha1.ProxyMode) bool {
			o := &Options{Config: newDefaultConfig()}
			o.Config.Mode = m
			return cf.ignoredIn(o) == ""
		})
		switch {
		case honoured && cf.where == "":
			t.Errorf("%s: honoured, but configFields does not say where", cf.path)
		case !honoured && cf.where != "":
			t.Errorf("%s: ignored in every mode, but configFields says it is used in %s", cf.path, cf.where)
		}
	}
	sort.Strings(table)
	if dup := duplicates(table); len(dup) > 0 {
		t.Errorf("configFields lists %q twice", dup)
	}
	for _, p := range api {
		if !slices.Contains(table, p) {
			t.Errorf("the v1alpha1 API has field %q, missing from configFields", p)
		}
	}
	for _, p := range table {
		if !slices.Contains(api, p) {
			t.Errorf("configFields lists %q, which the v1alpha1 API does not have", p)
		}
	}
}

// TestUnsupportedFields sets each field of kubeadm's config, one at a time, to
// a value other than its default, in each mode, and expects a warning exactly
// where kproxy does not honour it.
func TestUnsupportedFields(t *testing.T) {
	resetVerbosity(t) // logging.verbosity sets klog's -v
	base := readYAMLMap(t, kubeadmConfig)
	for _, c := range fieldCases {
		if c.value == "" {
			continue
		}
		for _, m := range allModes {
			t.Run(fmt.Sprintf("%s=%s/%s", c.path, c.value, m), func(t *testing.T) {
				doc := deepCopyMap(t, base)
				setPath(t, doc, "mode", string(m))
				setPath(t, doc, c.path, yamlValue(t, c.value))
				o := mustParse(t, "--config="+writeYAMLMap(t, doc))
				got := UnsupportedFields(o)
				i := slices.IndexFunc(got, func(f UnsupportedField) bool { return f.Field == c.path })
				mode := o.Config.Mode
				switch {
				case c.honoured(mode) && i >= 0:
					t.Errorf("%s is honoured in %s mode but reported: %v", c.path, mode, got[i])
				case !c.honoured(mode) && i < 0:
					t.Errorf("%s is ignored in %s mode but not reported (got %v)", c.path, mode, got)
				case i >= 0 && got[i].Reason == "":
					t.Errorf("%s reported without a reason", c.path)
				}
				if others := slices.DeleteFunc(got, func(f UnsupportedField) bool { return f.Field == c.path }); len(others) > 0 {
					t.Errorf("reported other fields too: %v", others)
				}
			})
		}
	}
}

// TestKubeadmConfigWarnsNothing: kubeadm's config leaves everything kproxy
// ignores at its default, so switching a kubeadm cluster to kproxy, in any
// mode, logs no warning.
func TestKubeadmConfigWarnsNothing(t *testing.T) {
	for _, m := range allModes {
		o := mustParse(t, "--config="+kubeadmConfig, "--proxy-mode="+string(m))
		if got := UnsupportedFields(o); len(got) > 0 {
			t.Errorf("%s mode: kubeadm's config reported as unsupported: %v", m, got)
		}
	}
}

// TestDefaultValuesWarnNothing: a field spelt differently but set to its
// default is not reported.
func TestDefaultValuesWarnNothing(t *testing.T) {
	o := mustParse(t, withConfig(t, `
logging: {flushFrequency: 5000000000}
conntrack: {maxPerCore: 32768, min: 131072, tcpEstablishedTimeout: 1440m}
ipvs: {excludeCIDRs: [], syncPeriod: 30000ms}
nodePortAddresses: []
featureGates: {}
detectLocalMode: ClusterCIDR
oomScoreAdj: -999
`))
	if got := UnsupportedFields(o); len(got) > 0 {
		t.Errorf("defaults reported as unsupported: %v", got)
	}
}

// TestUnsupportedFlags: a flag that sets an ignored field is reported too, by
// its config field name.
func TestUnsupportedFlags(t *testing.T) {
	o := mustParse(t, "--config="+kubeadmConfig, "--conntrack-max-per-core=0", "--oom-score-adj=-999", "--ipvs-scheduler=sh")
	var lines []string
	warnUnsupported(o, func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) })
	want := []string{
		`Config field is not supported by kproxy and is ignored field="ipvs.scheduler" value="sh" reason="used in ipvs mode only"`,
		`Config field is not supported by kproxy and is ignored field="conntrack.maxPerCore" value=0 reason="kproxy does not set conntrack sysctls; set them on the node"`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestKubeadmTestdataIsKubeadmOutput: kubeadm writes its defaulted
// KubeProxyConfiguration (bindAddress 0.0.0.0, clusterCIDR from
// --pod-network-cidr, its kubeconfig path; everything else unset) marshalled
// to YAML. The testdata must be exactly that for the pinned API version.
func TestKubeadmTestdataIsKubeadmOutput(t *testing.T) {
	cfg := kubeproxyconfigv1alpha1.KubeProxyConfiguration{BindAddress: "0.0.0.0", ClusterCIDR: "10.244.0.0/16"}
	cfg.APIVersion, cfg.Kind = kubeproxyconfigv1alpha1.SchemeGroupVersion.String(), configKind
	cfg.ClientConnection.Kubeconfig = "/var/lib/kube-proxy/kubeconfig.conf"
	cfg.FeatureGates = map[string]bool{}
	want, err := yaml.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(kubeadmConfig)
	if err != nil {
		t.Fatal(err)
	}
	var body []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			body = append(body, line)
		}
	}
	if got := strings.Join(body, ""); got != string(want) {
		t.Errorf("%s differs from kubeadm's encoding:\n%s\nwant:\n%s", kubeadmConfig, got, want)
	}
}

// filePaths returns the fields a config file sets, as configFields spells them.
func filePaths(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	flatten("", doc, out)
	return sortedKeys(out)
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// duplicates returns the entries of a sorted list that appear more than once.
func duplicates(sorted []string) []string {
	var out []string
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			out = append(out, sorted[i])
		}
	}
	return out
}

// readYAMLMap reads a YAML file into nested maps.
func readYAMLMap(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// deepCopyMap copies nested maps through YAML.
func deepCopyMap(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	data, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := yaml.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// yamlValue parses one YAML value.
func yamlValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// setPath sets a dotted path in nested maps, creating the maps on the way.
func setPath(t *testing.T, doc map[string]any, path string, v any) {
	t.Helper()
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := doc[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[p] = next
		}
		doc = next
	}
	doc[parts[len(parts)-1]] = v
}

// writeYAMLMap writes doc to a temp file and returns its path.
func writeYAMLMap(t *testing.T, doc map[string]any) string {
	t.Helper()
	data, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, string(bytes.TrimSpace(data))+"\n")
}
