// Package framework runs kproxy end to end on one machine: a real
// kube-apiserver (kcluster) and simulated nodes, pods and outside clients,
// each a network namespace created and removed by the framework.
//
// Topology (see e2e/README.md):
//
//	fabric ns  br0 10.200.0.1/24, runs kcluster (https://10.200.0.1:6443)
//	node i     eth0 10.200.0.(10+i) on br0, cbr0 10.244.i.1/24, ip_forward=1,
//	           routes to the other nodes' pod CIDRs via their fabric IPs
//	pod        eth0 10.244.i.k/24 on its node's cbr0, default via 10.244.i.1
//	client j   eth0 10.200.0.(100+j) on br0, no default route (outside)
//
// Every namespace is named "kpe2e-<pid>-<random>-<role>"; New first sweeps
// leftovers of test processes that are gone, and the cluster's teardown (a
// t.Cleanup) stops every process it started and deletes its namespaces. The
// host namespace is never configured: the test process talks to the API
// server and to kproxy with sockets opened inside the fabric or node
// namespace (package netns).
package framework
