package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"

	"k8s.io/klog/v2"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
)

// UnsupportedField is a KubeProxyConfiguration field set, by the --config file
// or a flag, to a value other than its default that kproxy does not act on.
type UnsupportedField struct {
	// Field is the field's path in the config file, e.g. "conntrack.maxPerCore".
	Field string
	// Value is the effective value, as JSON.
	Value string
	// Reason says why kproxy ignores it.
	Reason string
}

// unsupportedMessage starts every warning WarnUnsupportedFields logs.
const unsupportedMessage = "Config field is not supported by kproxy and is ignored"

// String renders f as the key/value part of its warning.
func (f UnsupportedField) String() string {
	return fmt.Sprintf("field=%q value=%s reason=%q", f.Field, f.Value, f.Reason)
}

// WarnUnsupportedFields logs one warning line per field UnsupportedFields
// returns, so that a kube-proxy configuration kproxy only partly honours does
// not go unnoticed.
func WarnUnsupportedFields(o *Options) {
	warnUnsupported(o, klog.Warningf)
}

// warnUnsupported is WarnUnsupportedFields with the logger as a seam for tests.
func warnUnsupported(o *Options, warnf func(format string, args ...any)) {
	for _, f := range UnsupportedFields(o) {
		warnf("%s %s", unsupportedMessage, f)
	}
}

// UnsupportedFields lists, in the order of configFields, the fields of
// o.Config that differ from kube-proxy's defaults but that kproxy ignores in
// the chosen mode. A field kproxy does not know at all (one added to the
// v1alpha1 API after configFields was written) is reported too.
func UnsupportedFields(o *Options) []UnsupportedField {
	set := leafValues(&o.Config)
	defaults := newDefaultConfig()
	def := leafValues(&defaults)
	var out []UnsupportedField
	for _, cf := range configFields {
		v, ok := set[cf.path]
		delete(set, cf.path)
		if !ok || sameValue(v, def[cf.path]) {
			continue
		}
		if reason := cf.ignoredIn(o); reason != "" {
			out = append(out, UnsupportedField{Field: cf.path, Value: jsonText(v), Reason: reason})
		}
	}
	unknown := make([]string, 0, len(set))
	for path, v := range set {
		if !sameValue(v, def[path]) {
			unknown = append(unknown, path)
		}
	}
	sort.Strings(unknown)
	for _, path := range unknown {
		out = append(out, UnsupportedField{Field: path, Value: jsonText(set[path]), Reason: "kproxy does not know this field"})
	}
	return out
}

// leafValues flattens cfg, as the config file spells it, into its fields:
// "conntrack.maxPerCore" → 32768. The paths of configFields are leaves even
// when their values are objects (featureGates).
func leafValues(cfg *kubeproxyconfigv1alpha1.KubeProxyConfiguration) map[string]any {
	c := cfg.DeepCopy()
	// 5s and 5000000000 are the same flush interval: marshal both as numbers.
	c.Logging.FlushFrequency.SerializeAsString = false
	data, err := json.Marshal(c)
	if err != nil {
		return nil // a plain struct of strings, numbers and maps always marshals
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	out := map[string]any{}
	flatten("", doc, out)
	return out
}

// flatten adds the leaves of v under prefix to out.
func flatten(prefix string, v any, out map[string]any) {
	obj, isObject := v.(map[string]any)
	if !isObject || (prefix != "" && isConfigField(prefix)) {
		out[prefix] = v
		return
	}
	for k, child := range obj {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		flatten(path, child, out)
	}
}

// isConfigField reports whether path is one of configFields.
func isConfigField(path string) bool {
	return slices.ContainsFunc(configFields, func(cf configField) bool { return cf.path == path })
}

// sameValue compares two leaves, counting null, [] and {} as the same.
func sameValue(a, b any) bool {
	return reflect.DeepEqual(emptyToNil(a), emptyToNil(b))
}

// emptyToNil maps an empty list or object to nil.
func emptyToNil(v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return nil
		}
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

// jsonText renders a leaf for a log line.
func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
