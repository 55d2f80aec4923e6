package iptablesmode

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kproxy/kproxy/proxy"
)

// partial renders only what changed since old: the own chains of touched service
// ports are declared (so flushed) and filled again, the chains they no longer use
// are deleted, and their rules in shared chains are deleted (-D with the exact text
// kept from the last sync) and inserted (-I at the position a full sync would put
// them) only when they differ. Untouched ports are not written at all, and neither
// is anything else: KUBE-SERVICES is not flushed.
func (r *renderer) partial(snap *proxy.Snapshot, order []proxy.ServicePortName, changes proxy.Changes, old *kernelState) rendered {
	for i := range r.shared {
		r.shared[i].reset()
	}
	r.chains.reset()
	r.rules.reset()
	r.segs = r.segs[:0]
	res := rendered{delta: stateDelta{}}
	var gone []string // chains to flush and delete
	var added, removed []proxy.ServicePortName
	sharedChanged := false
	for _, nn := range sortedKeys(changes.Services) {
		walkMerged(portsOf(old.order, nn), portsOf(order, nn), func(name proxy.ServicePortName, _, inNew bool) {
			before := old.services[name]
			mark := r.mark()
			var now *serviceState
			if inNew {
				now = r.renderService(snap.Services[name], snap.Node.IPs)
			}
			switch {
			case now == nil:
				delete(r.names, name)
			case before != nil && before.body == now.body && slices.Equal(before.chains, now.chains):
				r.rewind(mark) // its chains would be written as they are
			}
			switch {
			case before == nil && now == nil:
				return
			case before == nil:
				added = append(added, name)
			case now == nil:
				removed = append(removed, name)
			}
			res.delta[name] = now
			for c := range numShared {
				var was, is []string
				if before != nil {
					was = before.specs[c]
				}
				if now != nil {
					is = now.specs[c]
				}
				if slices.Equal(was, is) {
					continue
				}
				sharedChanged = true
				for _, spec := range was {
					r.shared[c].op("-D", sharedChain[c].name, spec)
				}
			}
			if before != nil {
				for _, ch := range before.chains {
					if now == nil || !slices.Contains(now.chains, ch) {
						gone = append(gone, ch)
					}
				}
			}
		})
	}
	if len(res.delta) == 0 {
		return res
	}
	newOrder := old.order
	if len(added)+len(removed) > 0 {
		newOrder = mergeOrder(old.order, added, removed)
		res.order = newOrder
	}
	if sharedChanged {
		r.insertShared(newOrder, old, res.delta)
	}
	r.assemblePartial(gone, &res)
	return res
}

// sortedKeys returns the names of a set of services, sorted.
func sortedKeys(set map[types.NamespacedName]struct{}) []types.NamespacedName {
	out := make([]types.NamespacedName, 0, len(set))
	for nn := range set {
		out = append(out, nn)
	}
	slices.SortFunc(out, compareNames)
	return out
}

// compareNames orders services by namespace, then name, as ServicePortName.Compare
// does.
func compareNames(a, b types.NamespacedName) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// portsOf returns the ports of service nn in a sorted list of port names, found by
// binary search (they are contiguous).
func portsOf(order []proxy.ServicePortName, nn types.NamespacedName) []proxy.ServicePortName {
	lo, _ := slices.BinarySearchFunc(order, nn, func(p proxy.ServicePortName, nn types.NamespacedName) int {
		return compareNames(p.NamespacedName, nn)
	})
	hi := lo
	for hi < len(order) && order[hi].NamespacedName == nn {
		hi++
	}
	return order[lo:hi]
}

// mergeOrder returns old without removed and with added, all three sorted.
func mergeOrder(old, added, removed []proxy.ServicePortName) []proxy.ServicePortName {
	out := make([]proxy.ServicePortName, 0, len(old)+len(added)-len(removed))
	walkMerged(old, added, func(name proxy.ServicePortName, _, _ bool) {
		if _, gone := slices.BinarySearchFunc(removed, name, proxy.ServicePortName.Compare); !gone {
			out = append(out, name)
		}
	})
	return out
}

// bufMark is a position in the buffers of services' own chains.
type bufMark struct{ chains, chainLines, rules, ruleLines, segs int }

// mark returns the current end of the own-chain buffers.
func (r *renderer) mark() bufMark {
	return bufMark{r.chains.Len(), r.chains.lines, r.rules.Len(), r.rules.lines, len(r.segs)}
}

// rewind drops what was written to the own-chain buffers since m.
func (r *renderer) rewind(m bufMark) {
	r.chains.Truncate(m.chains)
	r.chains.lines = m.chainLines
	r.rules.Truncate(m.rules)
	r.rules.lines = m.ruleLines
	r.segs = r.segs[:m.segs]
}

// insertShared writes the -I lines of touched ports whose shared rules changed. It
// walks the new order counting each shared chain's rules, so every rule lands where
// a full sync would have appended it (deletions come first in the payload, and
// insertions in ascending position, so the counts stay true as it goes).
func (r *renderer) insertShared(order []proxy.ServicePortName, old *kernelState, delta stateDelta) {
	var pos [numShared]int
	for _, name := range order {
		now, touched := delta[name]
		before := old.services[name]
		if !touched {
			for c := range numShared {
				pos[c] += len(before.specs[c])
			}
			continue
		}
		if now == nil {
			continue
		}
		for c := range numShared {
			if before != nil && slices.Equal(before.specs[c], now.specs[c]) {
				pos[c] += len(now.specs[c])
				continue
			}
			for _, spec := range now.specs[c] {
				pos[c]++
				r.shared[c].insert(sharedChain[c].name, pos[c], spec)
			}
		}
	}
}

// assemblePartial writes the payload of a partial sync into r.out; a table with
// nothing to change is left out.
func (r *renderer) assemblePartial(gone []string, res *rendered) {
	slices.Sort(gone)
	out := &r.out
	out.reset()
	filterLen := 0
	for c := range numShared {
		if !sharedChain[c].nat {
			filterLen += r.shared[c].Len()
		}
	}
	if filterLen > 0 {
		out.WriteString("*filter\n")
		before := out.lines
		for c := range numShared {
			if !sharedChain[c].nat {
				out.Write(r.shared[c].Bytes())
			}
		}
		res.filterWritten = out.lines - before
		out.WriteString("COMMIT\n")
	}
	natLen := r.chains.Len() + r.rules.Len() + len(gone) + r.shared[natServices].Len() + r.shared[natNodePorts].Len()
	if natLen > 0 {
		out.WriteString("*nat\n")
		out.Write(r.chains.Bytes())
		for _, c := range gone {
			out.chainLine(c)
		}
		before := out.lines
		out.Write(r.shared[natServices].Bytes())
		out.Write(r.shared[natNodePorts].Bytes())
		out.Write(r.rules.Bytes())
		res.natWritten = out.lines - before
		for _, c := range gone {
			out.op("-X", c, "")
		}
		out.WriteString("COMMIT\n")
	}
	res.payload = out.Bytes()
}

// walkMerged calls fn for every name of two sorted lists, in order, telling which
// lists hold it.
func walkMerged(a, b []proxy.ServicePortName, fn func(name proxy.ServicePortName, inA, inB bool)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b):
			fn(a[i], true, false)
			i++
		case i == len(a):
			fn(b[j], false, true)
			j++
		default:
			switch c := a[i].Compare(b[j]); {
			case c < 0:
				fn(a[i], true, false)
				i++
			case c > 0:
				fn(b[j], false, true)
				j++
			default:
				fn(a[i], true, true)
				i, j = i+1, j+1
			}
		}
	}
}
