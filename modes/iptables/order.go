package iptablesmode

import (
	"slices"
	"strings"

	"github.com/kproxy/kproxy/proxy"
)

// The order of a full sync's per-service nat chains in the payload.
//
// iptables-nft-restore (1.8.x) keeps the names of the chains a payload mentions in
// a sorted linked list, and walks it from the start for every line: for the chain
// the line is about and for the chain it jumps to. A line costs one string
// comparison per listed chain whose name sorts before its own. Declaring all
// 12,000 chains of a 10,000-service cluster first, in service order, made that
// walk most of a full restore (16 s of CPU of ~18 s): every rule of a KUBE-SVC-
// chain walked thousands of scattered list entries.
//
// So the full payload writes the per-service chains in an order that keeps the
// list short where the lines are, and its entries adjacent in memory:
//   - the KUBE-SEP- chains are declared first (KUBE-SVC- and KUBE-SVL- rules jump
//     to them), sorted;
//   - then KUBE-SVL- and KUBE-SVC- chains from the highest name down, by chunks of
//     declareChunk: a chunk is declared (sorted), then filled. A rule's walk then
//     passes the KUBE-SEP- names and part of its own chunk, not the other chunks;
//   - then the KUBE-SEP- rules, then KUBE-EXT- and KUBE-FW- (declared, then
//     filled; they jump to KUBE-SVC-/KUBE-SVL- and KUBE-EXT- chains declared
//     before);
//   - KUBE-SERVICES and KUBE-NODEPORTS come last: every chain they jump to exists.
//
// The order of chains in a payload changes nothing in the kernel's rules (each
// chain's rules keep their order), and iptables-legacy-restore does not care.

// declareChunk is how many KUBE-SVC-/KUBE-SVL- chains are declared at a time.
const declareChunk = 256

// chainSeg is one per-service nat chain rendered into r.rules: its rules start at
// byte start and end where the next segment starts (or at the end of r.rules).
type chainSeg struct {
	name  string
	start int
}

// beginChain starts a per-service nat chain: it is declared (in the partial
// payload), recorded as the port's, and its rules, written next into r.rules, are
// remembered as a segment for the full payload's ordering.
func (r *renderer) beginChain(st *serviceState, chain string) {
	r.chains.chainLine(chain)
	st.chains = append(st.chains, chain)
	r.segs = append(r.segs, chainSeg{name: chain, start: r.rules.Len()})
}

// segRules returns the rules of segment i.
func (r *renderer) segRules(i int) []byte {
	end := r.rules.Len()
	if i+1 < len(r.segs) {
		end = r.segs[i+1].start
	}
	return r.rules.Bytes()[r.segs[i].start:end]
}

// writeServiceChains writes every per-service nat chain of a full render, each
// declared before any line names it, in the order explained above.
func (r *renderer) writeServiceChains(out *lineBuf) {
	idx := r.segOrder[:0]
	for i := range r.segs {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(r.segs[a].name, r.segs[b].name) })
	r.segOrder = idx
	// Sorted, the prefixes come in this order: EXT, FW, SEP, then SVC and SVL.
	cut := func(prefix string) int {
		i, _ := slices.BinarySearchFunc(idx, prefix, func(i int, p string) int { return strings.Compare(r.segs[i].name, p) })
		return i
	}
	f, e, s := cut(prefixFirewall), cut(prefixEndpoint), cut(prefixService)
	ext, fw, sep, policy := idx[:f], idx[f:e], idx[e:s], idx[s:]

	r.declare(out, sep)
	for hi := len(policy); hi > 0; hi -= declareChunk {
		chunk := policy[max(0, hi-declareChunk):hi]
		r.declare(out, chunk)
		r.fill(out, chunk)
	}
	r.fill(out, sep)
	r.declare(out, ext)
	r.declare(out, fw)
	r.fill(out, ext)
	r.fill(out, fw)
}

// declare writes the declarations of segments.
func (r *renderer) declare(out *lineBuf, segs []int) {
	for _, i := range segs {
		out.WriteByte(':')
		out.WriteString(r.segs[i].name)
		out.WriteString(" - [0:0]\n")
	}
}

// fill writes the rules of segments.
func (r *renderer) fill(out *lineBuf, segs []int) {
	for _, i := range segs {
		out.Write(r.segRules(i))
	}
}

// Rough sizes of a full payload, to reserve its buffers at once: an endpoint's
// balancing rule, and a port's other lines in its own chains (masquerade rule,
// declaration), then in the shared chains.
const (
	endpointBytes = 128
	portBytes     = 256
)

// reserve grows the buffers of a full render to about what snap needs, so the first
// sync of a big cluster does not copy them over and over as they double (and give
// the garbage collector that much more to do). Later renders reuse them.
func (r *renderer) reserve(snap *proxy.Snapshot) {
	eps := 0
	for _, sp := range snap.Services {
		eps += len(sp.Endpoints.Cluster) + len(sp.Endpoints.Local)
	}
	own := eps*endpointBytes + len(snap.Services)*portBytes
	r.rules.Grow(own)
	r.out.Grow(own + len(snap.Services)*portBytes)
}

// release drops the buffers of a full render once its payload is in the kernel. At
// 10,000 services they hold some 35 MB, and the next full sync is rare (a failure,
// a flush, a node change): keeping them would only raise kproxy's resident memory.
// Partial syncs grow small ones again.
func (r *renderer) release() {
	for _, b := range []*lineBuf{&r.chains, &r.rules, &r.out} {
		*b = lineBuf{}
	}
	for i := range r.shared {
		r.shared[i] = lineBuf{}
	}
	r.segs, r.segOrder = nil, nil
}
