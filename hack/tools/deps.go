//go:build tools

// Package tools pins the product's chosen dependencies before every one of them has a user.
package tools

import (
	_ "github.com/coreos/go-iptables/iptables"
	_ "github.com/moby/ipvs"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/pflag"
	_ "github.com/vishvananda/netlink"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/client-go/informers"
	_ "k8s.io/klog/v2"
	_ "k8s.io/kube-proxy/config/v1alpha1"
	_ "k8s.io/utils/clock"
	_ "sigs.k8s.io/yaml"
)
