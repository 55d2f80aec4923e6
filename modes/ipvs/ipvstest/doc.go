// Package ipvstest holds stateful fakes of the IPVS mode's kernel seams and a
// packet tracer over them.
//
// Fake stands in for the IPVS netlink handle: it holds virtual and real servers,
// refuses what the kernel refuses with the kernel's errno values (EEXIST, ESRCH,
// ENOENT, EINVAL), counts operations and prints itself like "ipvsadm -Ln".
// Faulty wraps a handle to make chosen calls fail. Netlink holds the node's
// interfaces and addresses. Tracer follows a packet through the iptables fake, the
// ipsets and the virtual servers, in the order the kernel's hooks run.
//
// The package does not import the IPVS mode: its types satisfy the mode's
// interfaces by their method sets.
package ipvstest
