// Package ipsettest holds a stateful fake of the ipset seam.
//
// Fake implements ipset.Interface in memory. It checks what the kernel checks
// (entries fit their set's type and family, sets exist before use, a set is not
// created twice with other options, a set in use cannot be destroyed), applies a
// batch all or nothing, and prints its state in "ipset save" form. It also
// implements iptablestest.IPSets, so the iptables fake and its packet tracer can
// see the sets' members.
package ipsettest
