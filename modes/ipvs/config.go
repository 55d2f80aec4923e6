package ipvsmode

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// config is the validated, precomputed form of Options.
type config struct {
	family        v1.IPFamily
	ipv6          bool
	af            uint16 // AF_INET or AF_INET6
	netmask       uint32 // what the kernel wants in ipvs.Service.Netmask
	scheduler     string
	masqMark      string // "0x4000"
	masqueradeAll bool
	clusterCIDR   netip.Prefix // invalid when none of the family is known
	nodePortCIDRs []netip.Prefix
	excludeCIDRs  []netip.Prefix
	randomFully   bool
	gracePeriod   time.Duration
	sets          setNames
	clock         clock.PassiveClock
}

// newConfig checks opts and derives the configuration.
func newConfig(opts *Options) (config, error) {
	c := config{
		family:        opts.Family,
		ipv6:          opts.Family == v1.IPv6Protocol,
		scheduler:     opts.Scheduler,
		masqueradeAll: opts.MasqueradeAll,
		randomFully:   opts.RandomFully,
		gracePeriod:   opts.GracePeriod,
		clock:         opts.Clock,
	}
	if opts.Family != v1.IPv4Protocol && opts.Family != v1.IPv6Protocol {
		return c, fmt.Errorf("ipvs: unknown IP family %q", opts.Family)
	}
	if err := checkSeams(opts); err != nil {
		return c, err
	}
	c.af, c.netmask = syscall.AF_INET, 0xffffffff
	if c.ipv6 {
		c.af, c.netmask = syscall.AF_INET6, 128
	}
	if c.scheduler == "" {
		c.scheduler = DefaultScheduler
	}
	if c.gracePeriod <= 0 {
		c.gracePeriod = DefaultGracePeriod
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	bit := DefaultMasqueradeBit
	if opts.MasqueradeBit != nil {
		bit = *opts.MasqueradeBit
	}
	if bit < 0 || bit > 31 {
		return c, fmt.Errorf("ipvs: masquerade bit %d is not in 0-31", bit)
	}
	c.masqMark = "0x" + strconv.FormatUint(uint64(1)<<bit, 16)
	if cidrs := c.ofFamily(opts.ClusterCIDRs); len(cidrs) > 0 {
		c.clusterCIDR = cidrs[0]
	}
	c.nodePortCIDRs = c.ofFamily(opts.NodePortAddresses)
	for _, p := range c.nodePortCIDRs {
		if p.Bits() == 0 {
			c.nodePortCIDRs = nil // a /0 means every address, as upstream
			break
		}
	}
	c.excludeCIDRs = c.ofFamily(opts.ExcludeCIDRs)
	c.sets = newSetNames(c.ipv6)
	return c, nil
}

// checkSeams reports a missing or mismatched seam.
func checkSeams(opts *Options) error {
	switch {
	case opts.IPVS == nil:
		return errors.New("ipvs: no IPVS handle")
	case opts.Netlink == nil:
		return errors.New("ipvs: no netlink seam")
	case opts.IPSet == nil:
		return errors.New("ipvs: no ipset seam")
	case opts.IPTables == nil:
		return errors.New("ipvs: no iptables runner")
	case opts.Sysctl == nil:
		return errors.New("ipvs: no sysctl seam")
	}
	want := iptables.IPv4
	if opts.Family == v1.IPv6Protocol {
		want = iptables.IPv6
	}
	if got := opts.IPTables.Family(); got != want {
		return fmt.Errorf("ipvs: %s backend given a %s iptables runner", opts.Family, got)
	}
	return nil
}

// ofFamily returns the masked prefixes of the config's family.
func (c *config) ofFamily(prefixes []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range prefixes {
		if p.IsValid() && p.Addr().Is6() == c.ipv6 {
			out = append(out, p.Masked())
		}
	}
	return out
}

// excluded reports whether a virtual server address is in an excluded range.
func (c *config) excluded(addr netip.Addr) bool {
	for _, p := range c.excludeCIDRs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// isFamily reports whether addr is of the config's family.
func (c *config) isFamily(addr netip.Addr) bool { return addr.Is6() == c.ipv6 }
