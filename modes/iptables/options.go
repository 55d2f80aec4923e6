package iptablesmode

import (
	"fmt"
	"net/netip"
	"strconv"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Metrics receives what the backend measures. *proxy.Metrics implements it; nil
// means no metrics.
type Metrics interface {
	// SetIPTablesRules sets how many rules kproxy owns in a table and how many the
	// last sync wrote.
	SetIPTablesRules(family v1.IPFamily, table string, total, written int)
	// IPTablesRestoreFailed counts a failed iptables-restore.
	IPTablesRestoreFailed(family v1.IPFamily, partial bool)
	// SetNoLocalEndpoints sets how many services with a Local policy have no local
	// endpoint, for internal and external traffic.
	SetNoLocalEndpoints(family v1.IPFamily, internal, external int)
}

// DefaultMasqueradeBit is kube-proxy's --iptables-masquerade-bit default: mark 0x4000.
const DefaultMasqueradeBit = 14

// Options configures a Backend. The zero value of every field but Family is a
// sensible default.
type Options struct {
	// Family is the one IP family the backend programs.
	Family v1.IPFamily
	// IPTables runs iptables-restore and iptables-save of Family (ip6tables for
	// IPv6), or a fake. Nil makes Setup (or Cleanup) pick the variant the node uses
	// with iptables.Detect. The backend calls Restore once per sync; Save only at a
	// full sync when it does not know the kernel's state, and in Cleanup;
	// ChainExists in CheckCanary.
	IPTables iptables.Restorer
	// MasqueradeBit is the fwmark bit (0-31) that marks packets for SNAT; nil means
	// DefaultMasqueradeBit.
	MasqueradeBit *int
	// MasqueradeAll SNATs every packet sent to a cluster IP.
	MasqueradeAll bool
	// ClusterCIDRs are the pod networks (--cluster-cidr). Traffic to a cluster IP from
	// outside the first one of Family is masqueraded, and pods' traffic to external
	// addresses of externalTrafficPolicy Local services is treated as internal.
	ClusterCIDRs []netip.Prefix
	// NodePortAddresses limits node ports to the node's addresses in these ranges
	// (--nodeport-addresses). Empty, or holding 0.0.0.0/0 or ::/0, means every local
	// address.
	NodePortAddresses []netip.Prefix
	// LocalAddresses lists the node's addresses; it is asked at each full sync when
	// NodePortAddresses is set. Nil uses the node's addresses from the snapshot.
	LocalAddresses func() ([]netip.Addr, error)
	// LocalhostNodePorts lets node ports answer on 127.0.0.1 (IPv4 only). The caller
	// must set net.ipv4.conf.all.route_localnet=1.
	LocalhostNodePorts bool
	// RandomFully adds --random-fully to the MASQUERADE rule.
	RandomFully bool
	// ConntrackTCPBeLiberal tells the backend nf_conntrack_tcp_be_liberal is set, so
	// packets conntrack marks INVALID need not be dropped.
	ConntrackTCPBeLiberal bool
	// Conntrack removes stale UDP and SCTP flows after syncs (see
	// conntrack.StaleFlow); nil leaves them.
	Conntrack conntrack.Interface
	// Metrics receives rule counts and failures; nil discards them.
	Metrics Metrics
}

// config is the validated, precomputed form of Options that rendering reads.
type config struct {
	family             v1.IPFamily
	ipv6               bool
	masqMark           string // "0x4000"
	masqueradeAll      bool
	clusterCIDR        netip.Prefix // invalid when none of the family is known
	nodePortAll        bool         // node ports on every local address
	nodePortCIDRs      []netip.Prefix
	localhostNodePorts bool
	randomFully        bool
	tcpLiberal         bool
	// remoteHairpin gives endpoints on other nodes a "-s ep -j KUBE-MARK-MASQ"
	// rule before their DNAT rule, as upstream's KUBE-SEP chains do. A pod on
	// another node reaches its own service through that node's proxy, so only an
	// endpoint outside the cluster CIDR can come back to itself through this one,
	// and the cluster IP masquerade rule ("! -s <cluster CIDR>", or everything with
	// --masquerade-all) already marks it. The rule is kept only when neither is
	// configured; elsewhere it would double the rule count for nothing.
	remoteHairpin bool
}

// newConfig checks opts and derives the rendering configuration.
func newConfig(opts *Options) (config, error) {
	c := config{
		family:        opts.Family,
		ipv6:          opts.Family == v1.IPv6Protocol,
		masqueradeAll: opts.MasqueradeAll,
		randomFully:   opts.RandomFully,
		tcpLiberal:    opts.ConntrackTCPBeLiberal,
	}
	switch opts.Family {
	case v1.IPv4Protocol, v1.IPv6Protocol:
	default:
		return c, fmt.Errorf("iptables: unknown IP family %q", opts.Family)
	}
	if want := familyOf(opts.Family); opts.IPTables != nil && opts.IPTables.Family() != want {
		return c, fmt.Errorf("iptables: %s backend given a %s iptables runner", opts.Family, opts.IPTables.Family())
	}
	bit := DefaultMasqueradeBit
	if opts.MasqueradeBit != nil {
		bit = *opts.MasqueradeBit
	}
	if bit < 0 || bit > 31 {
		return c, fmt.Errorf("iptables: masquerade bit %d is not in 0-31", bit)
	}
	c.masqMark = "0x" + strconv.FormatUint(uint64(1)<<bit, 16)
	for _, p := range opts.ClusterCIDRs {
		if p.Addr().Is4() != c.ipv6 {
			c.clusterCIDR = p.Masked()
			break
		}
	}
	// As upstream: ranges of the other family are ignored, and no range of this
	// family (or a /0) means every local address.
	for _, p := range opts.NodePortAddresses {
		if p.Addr().Is4() == c.ipv6 {
			continue
		}
		if p.Bits() == 0 {
			c.nodePortCIDRs = nil
			break
		}
		c.nodePortCIDRs = append(c.nodePortCIDRs, p.Masked())
	}
	c.nodePortAll = len(c.nodePortCIDRs) == 0
	c.localhostNodePorts = opts.LocalhostNodePorts && !c.ipv6
	c.remoteHairpin = !c.masqueradeAll && !c.clusterCIDR.IsValid()
	return c, nil
}

// familyOf maps a Kubernetes IP family to the iptables one.
func familyOf(f v1.IPFamily) iptables.Family {
	if f == v1.IPv6Protocol {
		return iptables.IPv6
	}
	return iptables.IPv4
}
