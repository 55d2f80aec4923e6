// Package iptablestest holds a stateful fake of the iptables seam and a
// packet tracer over its state, for tests of every kproxy mode.
//
// The Fake implements iptables.Restorer. It parses iptables-restore input
// with the real tool's --noflush semantics, checks what the kernel checks
// (declared chains, jump targets, chains in use, table-specific targets),
// applies each table section atomically at COMMIT, and prints its state in
// iptables-save form with rules canonicalised the way iptables-save prints
// them, so a Dump can be compared with a real kernel's.
//
// The Tracer walks a packet through the Fake's nat and filter chains and
// returns the set of outcomes it can reach (a statistic match may go either
// way). Faulty wraps any Restorer to make chosen Restore calls fail.
package iptablestest
