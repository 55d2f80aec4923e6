package ipvsmode

import (
	"net/netip"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/kproxy/kproxy/proxy/conntrack"
	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// Metrics receives what the backend measures. *proxy.Metrics implements it.
type Metrics interface {
	// IPTablesRestoreFailed counts a failed iptables-restore.
	IPTablesRestoreFailed(family v1.IPFamily, partial bool)
	// SetIPTablesRules sets how many rules the backend owns in a table and how many
	// the last restore wrote.
	SetIPTablesRules(family v1.IPFamily, table string, total, written int)
}

// DefaultMasqueradeBit is kube-proxy's --iptables-masquerade-bit default: mark 0x4000.
const DefaultMasqueradeBit = 14

// DefaultScheduler is the scheduler used when Options.Scheduler is empty.
const DefaultScheduler = "rr"

// DefaultGracePeriod bounds how long a removed TCP or SCTP real server is kept at
// weight 0 while it still has connections.
const DefaultGracePeriod = 15 * time.Minute

// Options configures a Backend. Family and the seams are required; the zero value of
// every other field is a sensible default.
type Options struct {
	// Family is the one IP family the backend programs.
	Family v1.IPFamily
	// Scheduler is the IPVS scheduler of every virtual server (--ipvs-scheduler):
	// rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq or mh; "" means rr.
	Scheduler string
	// StrictARP sets arp_ignore=1 and arp_announce=2 so the node does not answer
	// ARP for the addresses on kube-ipvs0 (--ipvs-strict-arp).
	StrictARP bool
	// TCPTimeout, TCPFinTimeout and UDPTimeout set IPVS's idle timeouts; 0 keeps
	// the kernel's value.
	TCPTimeout, TCPFinTimeout, UDPTimeout time.Duration
	// ExcludeCIDRs are ranges whose virtual servers kproxy never deletes, in syncs
	// and in Cleanup (--ipvs-exclude-cidrs). Ranges of the other family are ignored.
	ExcludeCIDRs []netip.Prefix
	// MasqueradeAll SNATs every packet sent to a cluster IP.
	MasqueradeAll bool
	// MasqueradeBit is the fwmark bit (0-31) that marks packets for SNAT; nil means
	// DefaultMasqueradeBit.
	MasqueradeBit *int
	// ClusterCIDRs are the pod networks (--cluster-cidr): traffic to a cluster IP
	// from outside the first one of Family is masqueraded.
	ClusterCIDRs []netip.Prefix
	// NodePortAddresses limits node ports to the node's addresses in these ranges
	// (--nodeport-addresses); empty, or holding a /0, means every address.
	NodePortAddresses []netip.Prefix
	// RandomFully adds --random-fully to the MASQUERADE rule.
	RandomFully bool
	// GracePeriod bounds graceful termination of real servers; 0 means
	// DefaultGracePeriod.
	GracePeriod time.Duration

	// IPVS is the IPVS handle: the one NewHandle opens, or ipvstest.Fake.
	IPVS Handle
	// Netlink manages kube-ipvs0 and lists the node's addresses.
	Netlink Netlink
	// IPSet applies the ipsets: an *ipset.Runner, or ipsettest.Fake.
	IPSet ipset.Interface
	// IPTables runs iptables-restore of Family: an *iptables.Client, or
	// iptablestest.Fake.
	IPTables iptables.Restorer
	// Sysctl sets the IPVS sysctls at Setup: SysctlDir("/proc/sys"), or a
	// temporary directory in tests.
	Sysctl Sysctl
	// Clock times graceful termination; nil means the real clock.
	Clock clock.PassiveClock
	// Metrics receives iptables metrics; nil discards them.
	Metrics Metrics
	// Conntrack removes the conntrack entries of UDP flows a sync made stale (see
	// stale.go): conntrack.NewNetlink, or conntracktest.Fake; nil leaves them.
	Conntrack conntrack.Interface
}
