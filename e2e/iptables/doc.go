// Package iptablese2e holds the real-kernel end-to-end tests of kproxy's
// iptables mode: a two-node cluster from e2e/framework with the built kproxy
// binary on both nodes, and traffic from pods and outside clients through the
// rules kproxy wrote. The whole suite runs once per iptables variant: nft
// (the default) and legacy, a node being made "legacy" with the
// KUBE-IPTABLES-HINT chain in the legacy mangle table, as kubelet leaves it.
//
// The tests skip unless they run as root with KPROXY_E2E=1:
//
//	sudo KPROXY_E2E=1 go test -count=1 -v ./e2e/iptables/
package iptablese2e
