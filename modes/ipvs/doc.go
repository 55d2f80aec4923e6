// Package ipvsmode is kproxy's IPVS mode (--proxy-mode=ipvs), a drop-in for
// kube-proxy's IPVS proxier.
//
// Every cluster IP, node address and node port, external IP and load-balancer IP
// of a service port becomes an IPVS virtual server whose real servers are the
// endpoints this node selected. The virtual addresses are bound to the dummy
// interface kube-ipvs0. Masquerading, hairpin traffic, load-balancer source
// ranges and the filtering of non-service ports on service addresses are a
// constant set of iptables rules matching ipsets, so their number does not grow
// with the number of services.
//
// A sync is a diff per object, never a flush: plan.go computes what one service
// port wants (a pure function), state.go keeps what is programmed, and
// virtual.go, graceful.go, ipsets.go, addresses.go and rules.go apply the
// differences through the seams (Handle, Netlink, ipset.Interface,
// iptables.Restorer, Sysctl); stale.go clears the conntrack entries of UDP flows
// the sync made stale (conntrack.Interface). A partial sync reads from the kernel
// only the connection counts of a TCP virtual server losing real servers.
// README.md describes the layout.
package ipvsmode
