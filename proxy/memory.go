package proxy

import (
	"runtime/debug"
	"time"

	"k8s.io/klog/v2"
)

// releaseStartupGarbage returns the memory start-up freed to the system at once.
// Decoding the informers' initial lists and rendering the first full ruleset leave
// tens of megabytes of garbage at 10,000 services; Go's scavenger would keep most
// of those pages resident for minutes (up to the next heap goal, twice the live
// heap), which is what a node's memory accounting sees. One forced collection after
// the first complete sync brings the resident set close to the live heap.
func releaseStartupGarbage() {
	start := time.Now()
	debug.FreeOSMemory()
	klog.V(2).InfoS("Released start-up memory to the system", "took", time.Since(start))
}
