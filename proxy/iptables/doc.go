// Package iptables is kproxy's thin seam to the kernel's iptables: it runs
// iptables-restore and iptables-save of the variant (nft or legacy) the node
// uses, and offers a few go-iptables based helpers for bootstrap and cleanup.
//
// Rules are never generated here. Modes render a whole payload into a
// reused Payload and hand the bytes to a Restorer; the Restorer only applies
// them. Tests use the stateful fake in package iptablestest, which
// implements the same Restorer interface.
package iptables
