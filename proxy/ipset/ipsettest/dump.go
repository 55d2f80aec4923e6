package ipsettest

import (
	"strings"

	"github.com/kproxy/kproxy/proxy/ipset"
	"github.com/kproxy/kproxy/proxy/iptables/iptablestest"
)

// Dump returns every set in "ipset save" form: sets sorted by name, each create
// line followed by its members sorted. Equal states give equal dumps.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, name := range f.names() {
		s := f.sets[name]
		b.WriteString("create " + name + " " + s.CreateOptions() + "\n")
		for _, m := range sortedKeys(s.members) {
			b.WriteString("add " + name + " " + m + "\n")
		}
	}
	return b.String()
}

// IPSet returns a set as the iptables fake and its tracer see it, which makes the
// Fake an iptablestest.IPSets. A bitmap:port set matches TCP, UDP and SCTP
// packets alike in the kernel; its members are listed once per protocol.
func (f *Fake) IPSet(name string) (iptablestest.IPSet, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sets[name]
	if s == nil {
		return iptablestest.IPSet{}, false
	}
	out := iptablestest.IPSet{Type: string(s.Type)}
	for _, m := range sortedKeys(s.members) {
		if s.Type == ipset.BitmapPort {
			out.Members = append(out.Members, "tcp:"+m, "udp:"+m, "sctp:"+m)
			continue
		}
		out.Members = append(out.Members, m)
	}
	return out, true
}

var _ iptablestest.IPSets = (*Fake)(nil)
