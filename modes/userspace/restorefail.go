package userspace

import v1 "k8s.io/api/core/v1"

// Metrics receives what the backend counts in kproxy's mode-independent sync
// metrics. *proxy.Metrics implements it.
type Metrics interface {
	// IPTablesRestoreFailed counts a failed iptables-restore
	// (kubeproxy_sync_proxy_rules_iptables_restore_failures_total); partial
	// is true when it was a partial sync's.
	IPTablesRestoreFailed(family v1.IPFamily, partial bool)
}

// restoreFailed counts a failed restore of the portals.
func (b *Backend) restoreFailed(full bool) {
	if b.counts != nil {
		b.counts.IPTablesRestoreFailed(b.cfg.family, !full)
	}
}
