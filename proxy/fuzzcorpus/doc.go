// Package fuzzcorpus turns fuzzer bytes into sequences of Service and EndpointSlice
// events full of the mistakes the API server may not catch, or that a buggy
// controller or an old cluster may send: unparsable and wrong-family addresses,
// zones, IPv4-mapped IPv6, ports out of range, unknown protocols, huge or odd names,
// nil pointers, duplicates, FQDN and unlabelled slices, thousands of ports.
//
// Every program also holds the Anchor, one well-formed dual-stack service with its
// slices: whatever else a program does, the anchor must come out of kproxy intact.
// Feeder plays a program into a proxy.Table the way the watcher does, and the
// Check functions say whether the resulting snapshots only hold what a backend can
// program. Seeds is a corpus shared by the fuzz tests of proxy and of every mode.
package fuzzcorpus
