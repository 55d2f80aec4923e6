package ipvsmode

import (
	"net/netip"
	"syscall"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kproxy/kproxy/proxy/conntrack"
)

// Stale UDP flows. With net/ipv4/vs/conntrack=1 every IPVS connection also has a
// conntrack entry, whose reply direction names the real server. UDP has no close.
// On the kernels tested (Debian's 6.1, e2e/ipvs TestIPVSStaleUDP) IPVS handles a
// deleted real server itself: with expire_nodest_conn=1 the client's next packet
// expires the IPVS connection and its conntrack entry. As upstream and the
// iptables mode, a sync still clears, for UDP virtual servers only, the entries
// IPVS might leave behind (another kernel, a sysctl changed behind kproxy's back):
//   - the entries DNATed to each real server it deletes;
//   - every entry to a virtual server it deletes, or that gets its first real
//     server (packets sent while it had none were not DNATed).

// staleFlow records the flows of a UDP virtual server to clear, those DNATed to
// endpoint when it is valid, else all of them.
func (s *syncer) staleFlow(key vsKey, endpoint netip.Addr) {
	if key.proto != syscall.IPPROTO_UDP {
		return
	}
	s.stale = append(s.stale, conntrack.StaleFlow{Protocol: v1.ProtocolUDP, Dest: key.addr, Port: key.port, Endpoint: endpoint})
}

// clearStale clears the recorded flows; a failure is logged, as upstream does:
// the flows then only end when they time out.
func (s *syncer) clearStale() {
	ct := s.b.opts.Conntrack
	if ct == nil || len(s.stale) == 0 {
		return
	}
	if err := ct.ClearFlows(s.stale); err != nil {
		klog.ErrorS(err, "Failed to clear stale conntrack entries", "family", s.c.family, "flows", len(s.stale))
	}
}
