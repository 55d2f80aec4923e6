package app

import (
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/modes/userspace"
	"github.com/kproxy/kproxy/proxy"
)

// newUserspaceBackend builds the userspace mode: kproxy's own listeners behind portal rules.
func newUserspaceBackend(o *Options, family v1.IPFamily, reg prometheus.Registerer, m *proxy.Metrics) (proxy.Backend, error) {
	bind, _ := netip.ParseAddr(o.Config.BindAddress) // validated; unparsable means every address
	pr := o.PortRange()
	return userspace.New(userspace.Options{
		Family:            family,
		BindAddress:       bind,
		PortRange:         userspace.PortRange{Base: pr.Base, Size: pr.Size},
		UDPIdleTimeout:    o.UDPIdleTimeout,
		ClusterCIDRs:      o.ClusterCIDRs(),
		NodePortAddresses: nodePortCIDRs(o),
		Registerer:        reg,
		Metrics:           m,
	})
}
