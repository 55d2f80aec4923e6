package proxy

import (
	"runtime/debug"
	"time"

	"k8s.io/klog/v2"
)

// bigTable is the number of service ports from which a full sync's garbage is
// worth a forced collection: about 4 MB of iptables payload, or as many IPVS
// virtual servers.
const bigTable = 2500

// releaseStartupGarbage returns freed memory to the system at once. Decoding the
// informers' initial lists and a full sync (the iptables mode's rendered payload
// and the iptables-save output it reads, the IPVS mode's kernel listings) leave
// tens of megabytes of garbage at 10,000 services; Go's scavenger would keep most
// of those pages resident for minutes (up to the next heap goal, twice the live
// heap), which is what a node's memory accounting sees. The Syncer calls it after
// the first complete sync and after complete syncs with a full sync of at least
// bigTable service ports (rare: failures, flushes, node changes); each costs one
// forced collection.
func releaseStartupGarbage() {
	start := time.Now()
	debug.FreeOSMemory()
	klog.V(2).InfoS("Released start-up memory to the system", "took", time.Since(start))
}
