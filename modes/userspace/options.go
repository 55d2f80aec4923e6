package userspace

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// DefaultUDPIdleTimeout is the default of --udp-timeout, as in kube-proxy.
const DefaultUDPIdleTimeout = 250 * time.Millisecond

// PortRange is --proxy-port-range: the ports Base through Base+Size-1. A zero Base
// lets the kernel choose any free port for each listener.
type PortRange struct {
	Base int
	Size int
}

// Options configures a Backend. Family is required; the zero value of every other
// field is a sensible default.
type Options struct {
	// Family is the one IP family the backend proxies.
	Family v1.IPFamily
	// IPTables applies the portal rules of Family (ip6tables for IPv6): an
	// *iptables.Client or a fake. Nil means an *iptables.Client of the variant
	// iptables.Detect finds, on first use.
	IPTables iptables.Restorer
	// BindAddress is --bind-address, where listeners listen. The zero value or an
	// unspecified address (0.0.0.0, ::) means every address of Family. A specific
	// address of the other family also means every address of Family (dual-stack
	// nodes have a single --bind-address), and is logged.
	BindAddress netip.Addr
	// PortRange is --proxy-port-range; the zero value means any free port.
	PortRange PortRange
	// UDPIdleTimeout is --udp-timeout: a UDP client session ends after this long
	// without packets in either direction. Zero means DefaultUDPIdleTimeout.
	UDPIdleTimeout time.Duration
	// ClusterCIDRs are the pod networks (--cluster-cidr). When one of Family is
	// given, pods' traffic to the node ports, external and load-balancer IPs of an
	// externalTrafficPolicy Local service counts as internal traffic, as in the
	// iptables mode.
	ClusterCIDRs []netip.Prefix
	// NodePortAddresses limits node ports to the node's addresses in these ranges
	// (--nodeport-addresses). Empty, or holding 0.0.0.0/0 or ::/0, means every
	// local address; ranges of the other family are ignored. kube-proxy's old
	// userspace mode took the flag and ignored it.
	NodePortAddresses []netip.Prefix
	// Registerer receives the kubeproxy_userspace_* metrics; nil registers them
	// nowhere. Two backends (dual-stack) may share one.
	Registerer prometheus.Registerer
	// Metrics counts failed iptables-restore runs of the portals in kproxy's
	// shared sync metrics (*proxy.Metrics); nil counts nothing.
	Metrics Metrics
	// Clock drives session affinity and UDP expiry; nil means the real clock.
	Clock clock.WithTicker
}

// config is the validated form of Options.
type config struct {
	family      v1.IPFamily
	ipv6        bool
	bind        netip.Addr // always valid and of family
	bindAny     bool       // bind is the unspecified address
	listenOn    netip.Addr // where listeners really listen: bind, but tests may narrow it
	ports       PortRange
	udpTimeout  time.Duration
	clusterCIDR netip.Prefix // invalid when none of family is known
	// nodePortCIDRs are the --nodeport-addresses ranges of family; nil: every
	// local address.
	nodePortCIDRs []netip.Prefix
	clock         clock.WithTicker
	dialTimeouts  []time.Duration
}

// defaultDialTimeouts are the timeouts of the successive attempts to reach an
// endpoint for one connection, each to the next endpoint, as in kube-proxy.
func defaultDialTimeouts() []time.Duration {
	return []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
}

// newConfig checks opts and fills in defaults.
func newConfig(opts *Options) (config, error) {
	c := config{family: opts.Family, ipv6: opts.Family == v1.IPv6Protocol, ports: opts.PortRange,
		udpTimeout: opts.UDPIdleTimeout, clock: opts.Clock, dialTimeouts: defaultDialTimeouts()}
	switch opts.Family {
	case v1.IPv4Protocol, v1.IPv6Protocol:
	default:
		return c, fmt.Errorf("userspace: unknown IP family %q", opts.Family)
	}
	if want := iptablesFamily(c.ipv6); opts.IPTables != nil && opts.IPTables.Family() != want {
		return c, fmt.Errorf("userspace: %s backend given a %s iptables runner", opts.Family, opts.IPTables.Family())
	}
	c.bind, c.bindAny = bindAddress(opts.BindAddress, c.ipv6)
	c.listenOn = c.bind
	if err := checkPortRange(c.ports); err != nil {
		return c, err
	}
	switch {
	case c.udpTimeout < 0:
		return c, fmt.Errorf("userspace: negative UDP idle timeout %v", c.udpTimeout)
	case c.udpTimeout == 0:
		c.udpTimeout = DefaultUDPIdleTimeout
	}
	for _, p := range opts.ClusterCIDRs {
		if p.Addr().Is4() != c.ipv6 {
			c.clusterCIDR = p.Masked()
			break
		}
	}
	c.nodePortCIDRs = nodePortCIDRs(opts.NodePortAddresses, c.ipv6)
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	return c, nil
}

// bindAddress returns where listeners of a family listen, and whether that is
// every address.
func bindAddress(a netip.Addr, ipv6 bool) (netip.Addr, bool) {
	all := netip.IPv4Unspecified()
	if ipv6 {
		all = netip.IPv6Unspecified()
	}
	if a.Is4In6() && !ipv6 {
		a = a.Unmap()
	}
	switch {
	case !a.IsValid() || a.IsUnspecified():
		return all, true
	case a.Is4() == ipv6:
		klog.InfoS("Bind address is of the other IP family; listening on every address of this one",
			"bindAddress", a, "listen", all)
		return all, true
	}
	return a, false
}

// checkPortRange rejects a range that leaves 1-65535.
func checkPortRange(r PortRange) error {
	if r.Base == 0 {
		return nil
	}
	if r.Base < 0 || r.Size < 1 || r.Base+r.Size-1 > 65535 {
		return fmt.Errorf("userspace: port range %d+%d is not within 1-65535", r.Base, r.Size-1)
	}
	return nil
}

// iptablesFamily maps the backend's family to the iptables one.
func iptablesFamily(ipv6 bool) iptables.Family {
	if ipv6 {
		return iptables.IPv6
	}
	return iptables.IPv4
}
