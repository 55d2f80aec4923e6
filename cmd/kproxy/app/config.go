package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	strictjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// configKind is the only kind a --config file may hold.
const configKind = "KubeProxyConfiguration"

// LoadConfigFile reads a KubeProxyConfiguration file, decodes it strictly and
// applies defaults to the fields it leaves unset.
func LoadConfigFile(path string) (*kubeproxyconfigv1alpha1.KubeProxyConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	cfg, err := DecodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("--config %s: %s", path, oneLine(err.Error()))
	}
	SetDefaults(cfg)
	return cfg, nil
}

// DecodeConfig decodes one YAML or JSON KubeProxyConfiguration document
// without applying defaults. It is strict, as kube-proxy's decoder is: the
// apiVersion must be kubeproxy.config.k8s.io/v1alpha1 and the kind
// KubeProxyConfiguration, and unknown or duplicated fields are errors (field
// names are case-sensitive).
func DecodeConfig(data []byte) (*kubeproxyconfigv1alpha1.KubeProxyConfiguration, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if err := checkTypeMeta(js); err != nil {
		return nil, err
	}
	cfg := &kubeproxyconfigv1alpha1.KubeProxyConfiguration{}
	strictErrs, err := strictjson.UnmarshalStrict(js, cfg,
		strictjson.DisallowDuplicateFields, strictjson.DisallowUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("cannot decode: %w", err)
	}
	if len(strictErrs) > 0 {
		return nil, joinErrors(strictErrs)
	}
	return cfg, nil
}

// checkTypeMeta rejects documents that are not a v1alpha1 KubeProxyConfiguration,
// before strict decoding would report the other fields as unknown.
func checkTypeMeta(js []byte) error {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return fmt.Errorf("not a KubeProxyConfiguration object: %w", err)
	}
	want := kubeproxyconfigv1alpha1.SchemeGroupVersion.String()
	if tm.APIVersion != want {
		return fmt.Errorf("apiVersion is %q, want %q", tm.APIVersion, want)
	}
	if tm.Kind != configKind {
		return fmt.Errorf("kind is %q, want %q", tm.Kind, configKind)
	}
	return nil
}

// MarshalConfig renders cfg as a YAML KubeProxyConfiguration document that
// LoadConfigFile reads back to the same configuration, except for values the
// file format treats as unset (see SetDefaults), such as a zero
// iptables.minSyncPeriod or an empty metricsBindAddress.
func MarshalConfig(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) ([]byte, error) {
	out := *cfg
	out.APIVersion = kubeproxyconfigv1alpha1.SchemeGroupVersion.String()
	out.Kind = configKind
	return yaml.Marshal(&out)
}

// WriteConfig writes the effective configuration to o.WriteConfigTo, as
// kube-proxy's --write-config-to does.
func (o *Options) WriteConfig() error {
	data, err := MarshalConfig(&o.Config)
	if err != nil {
		return fmt.Errorf("--write-config-to: %w", err)
	}
	if err := os.WriteFile(o.WriteConfigTo, data, 0o644); err != nil {
		return fmt.Errorf("--write-config-to: %w", err)
	}
	return nil
}

// joinErrors merges errors into one single-line error.
func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// oneLine folds a multi-line message (as YAML errors are) into one line.
func oneLine(msg string) string {
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " ")
}
