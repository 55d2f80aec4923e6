// Package ipset is kproxy's seam to the kernel's IP sets.
//
// A backend describes what it wants as a Batch of operations (create, add, del,
// flush, destroy) and hands it to an Interface: Runner applies it with one
// "ipset restore -exist", the stateful fake in package ipsettest applies it to
// memory. Both read sets back with List, entries in the canonical form the
// constructors of this package (IPPort, IPPortIP, IPPortNet, Port, IP) produce,
// so what a backend writes and what it reads compare as plain strings.
package ipset
