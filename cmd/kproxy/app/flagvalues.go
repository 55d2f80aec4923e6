package app

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// stringValue is a pflag.Value for string-based types such as ProxyMode.
type stringValue[T ~string] struct {
	p        *T
	typeName string
}

func (v stringValue[T]) String() string {
	if v.p == nil {
		return ""
	}
	return string(*v.p)
}

func (v stringValue[T]) Set(s string) error {
	*v.p = T(s)
	return nil
}

func (v stringValue[T]) Type() string { return v.typeName }

// featureGatesValue is a pflag.Value for --feature-gates=A=true,B=false. Each
// given gate overrides the same gate from the config file; other gates keep
// their file value.
type featureGatesValue struct {
	m *map[string]bool
}

func (v featureGatesValue) String() string {
	if v.m == nil {
		return ""
	}
	pairs := make([]string, 0, len(*v.m))
	for k, on := range *v.m {
		pairs = append(pairs, k+"="+strconv.FormatBool(on))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (v featureGatesValue) Set(s string) error {
	parsed := map[string]bool{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, val, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("%q is not of the form Name=true|false", pair)
		}
		on, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("%q: value must be true or false", pair)
		}
		parsed[strings.TrimSpace(name)] = on
	}
	if *v.m == nil {
		*v.m = map[string]bool{}
	}
	for k, on := range parsed {
		(*v.m)[k] = on
	}
	return nil
}

func (v featureGatesValue) Type() string { return "mapStringBool" }

// int32PtrValue is a pflag.Value for an optional int32 config field.
type int32PtrValue struct {
	p **int32
}

func (v int32PtrValue) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return strconv.FormatInt(int64(**v.p), 10)
}

func (v int32PtrValue) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return fmt.Errorf("%q is not a 32-bit integer", s)
	}
	*v.p = ptrTo(int32(n))
	return nil
}

func (v int32PtrValue) Type() string { return "int32" }

// boolPtrValue is a pflag.Value for an optional bool config field.
type boolPtrValue struct {
	p **bool
}

func (v boolPtrValue) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return strconv.FormatBool(**v.p)
}

func (v boolPtrValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v.p = ptrTo(b)
	return nil
}

func (v boolPtrValue) Type() string { return "bool" }

// durationPtrValue is a pflag.Value for an optional duration config field.
type durationPtrValue struct {
	p **metav1.Duration
}

func (v durationPtrValue) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return (*v.p).Duration.String()
}

func (v durationPtrValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 30s, 1h)", s)
	}
	*v.p = &metav1.Duration{Duration: d}
	return nil
}

func (v durationPtrValue) Type() string { return "duration" }
