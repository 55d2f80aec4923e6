// Package userspacee2e holds the real-kernel end-to-end tests of kproxy's
// userspace mode (--proxy-mode=userspace): a two-node cluster from
// e2e/framework with the built kproxy binary on both nodes, where kproxy
// itself carries the traffic of pods, nodes and an outside client between
// its portal rules and the endpoints. Beside reachability it checks what is
// peculiar to the mode: exact round robin, ClientIP affinity, UDP sessions,
// dial retries around a killed endpoint, 1,000 concurrent connections and no
// descriptor or goroutine left behind in kproxy afterwards.
//
// The tests skip unless they run as root with KPROXY_E2E=1:
//
//	sudo KPROXY_E2E=1 go test -count=1 -v ./e2e/userspace/
package userspacee2e
