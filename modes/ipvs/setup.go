package ipvsmode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/ipvs"
	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy/ipset"
)

// Schedulers returns the IPVS schedulers kproxy accepts, as kube-proxy does.
func Schedulers() []string {
	return []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"}
}

// Setup checks that the node can run IPVS mode (the ipset tool, IPVS and the
// scheduler in the kernel) and sets the sysctls and timeouts IPVS mode needs.
func (b *Backend) Setup(ctx context.Context) error {
	if !slices.Contains(Schedulers(), b.c.scheduler) {
		return fmt.Errorf("ipvs: unknown scheduler %q: use one of %s", b.c.scheduler, strings.Join(Schedulers(), ", "))
	}
	if err := b.checkIPSet(ctx); err != nil {
		return err
	}
	if err := b.probeScheduler(); err != nil {
		return err
	}
	if err := setSysctls(b.opts.Sysctl, b.opts.StrictARP); err != nil {
		return fmt.Errorf("ipvs: %w", err)
	}
	b.setTimeouts()
	return nil
}

// checkIPSet checks the kernel's ip_set (or the ipset tool) is there and recent
// enough.
func (b *Backend) checkIPSet(ctx context.Context) error {
	v, err := b.opts.IPSet.Version(ctx)
	if err != nil {
		return fmt.Errorf("ipvs: IPVS mode needs ip sets: %w", err)
	}
	if err := ipset.CheckVersion(v); err != nil {
		return fmt.Errorf("ipvs: %w", err)
	}
	return nil
}

// probeAddr and probePort are where the scheduler probe creates its virtual
// server, upstream's choice: TEST-NET-2 (RFC 5737) is never a real address.
var probeAddr = net.IPv4(198, 51, 100, 0).To4()

const probePort = 20000

// probeScheduler proves the kernel has IPVS and the scheduler's module: unless a
// virtual server already uses the scheduler, it creates one with it and deletes it.
// The kernel loads ip_vs_<scheduler> on demand, and refuses with ENOENT when it has
// no such module.
func (b *Backend) probeScheduler() error {
	h, sched := b.opts.IPVS, b.c.scheduler
	svcs, err := h.GetServices()
	if err != nil {
		return fmt.Errorf("ipvs: IPVS is not available in this kernel: %w", err)
	}
	if slices.ContainsFunc(svcs, func(s *ipvs.Service) bool { return s.SchedName == sched }) {
		return nil
	}
	probe := &ipvs.Service{Address: probeAddr, Protocol: syscall.IPPROTO_TCP, Port: probePort, SchedName: sched,
		AddressFamily: syscall.AF_INET, Netmask: 0xffffffff}
	err = h.NewService(probe)
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("ipvs: scheduler %q is not available in the kernel (no module ip_vs_%s): %w", sched, sched, err)
	case err != nil && !errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("ipvs: cannot create a virtual server with scheduler %q: %w", sched, err)
	}
	defer func() {
		if err := h.DelService(probe); err != nil {
			klog.ErrorS(err, "Failed to delete the scheduler probe virtual server", "address", probeAddr, "port", probePort)
		}
	}()
	// Read back: without IPVS in the kernel, some handles report success and do nothing.
	svcs, err = h.GetServices()
	if err != nil || !slices.ContainsFunc(svcs, func(s *ipvs.Service) bool { return s.Port == probePort && probeAddr.Equal(s.Address) }) {
		return fmt.Errorf("ipvs: IPVS is not available in this kernel: a test virtual server was not created (%v)", err)
	}
	return nil
}

// setTimeouts sets IPVS's idle timeouts when some are given; a failure is logged,
// as upstream does.
func (b *Backend) setTimeouts() {
	o := &b.opts
	if o.TCPTimeout <= 0 && o.TCPFinTimeout <= 0 && o.UDPTimeout <= 0 {
		return
	}
	cfg := &ipvs.Config{TimeoutTCP: max(o.TCPTimeout, 0), TimeoutTCPFin: max(o.TCPFinTimeout, 0), TimeoutUDP: max(o.UDPTimeout, 0)}
	if err := o.IPVS.SetConfig(cfg); err != nil {
		klog.ErrorS(err, "Failed to set IPVS timeouts", "tcp", o.TCPTimeout, "tcpFin", o.TCPFinTimeout, "udp", o.UDPTimeout)
	}
}

// The sysctls IPVS mode needs, as upstream sets them.
var sysctls = []struct{ name, value string }{
	// Let netfilter see IPVS connections, so the nat rules masquerade them.
	{"net/ipv4/vs/conntrack", "1"},
	// Drop a connection's packets as soon as its real server is deleted.
	{"net/ipv4/vs/expire_nodest_conn", "1"},
	// Expire persistence templates of real servers at weight 0.
	{"net/ipv4/vs/expire_quiescent_template", "1"},
	{"net/ipv4/ip_forward", "1"},
}

// setSysctls sets the sysctls, only those that differ.
func setSysctls(sc Sysctl, strictARP bool) error {
	want := slices.Clone(sysctls)
	if connReuseZero(sc) {
		// Kernels 4.1 to 5.8 stall new connections reusing a port of a terminating
		// one unless conn_reuse_mode is 0 (kubernetes#93297).
		want = append(want, struct{ name, value string }{"net/ipv4/vs/conn_reuse_mode", "0"})
	}
	if strictARP {
		want = append(want, struct{ name, value string }{"net/ipv4/conf/all/arp_ignore", "1"},
			struct{ name, value string }{"net/ipv4/conf/all/arp_announce", "2"})
	}
	for _, w := range want {
		if got, err := sc.Get(w.name); err == nil && got == w.value {
			continue
		}
		if err := sc.Set(w.name, w.value); err != nil {
			return fmt.Errorf("setting %s=%s (is the ip_vs module loaded?): %w", w.name, w.value, err)
		}
	}
	return nil
}

// connReuseZero reports whether the kernel (kernel/osrelease) is one whose
// conn_reuse_mode must be 0: 4.1 up to 5.8. An unreadable release leaves it alone.
func connReuseZero(sc Sysctl) bool {
	rel, err := sc.Get("kernel/osrelease")
	if err != nil {
		return false
	}
	major, minor, ok := kernelVersion(rel)
	if !ok {
		return false
	}
	v := major*1000 + minor
	return v >= 4001 && v < 5009
}

// kernelVersion reads "5.10.0-28-amd64" as 5, 10.
func kernelVersion(release string) (major, minor int, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	digits := strings.IndexFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if digits < 0 {
		digits = len(parts[1])
	}
	minor, err2 := strconv.Atoi(parts[1][:digits])
	return major, minor, err1 == nil && err2 == nil
}
