// Package faultse2e holds kproxy's fault end-to-end tests: whatever goes
// wrong around it (the API server away, kproxy itself killed, a failing
// iptables-restore, rules flushed by hand, endpoints churning under load),
// kproxy must never be the reason traffic stops. Each test builds a cluster
// with e2e/framework, keeps a steady stream of connections going to a
// Service while the fault happens, and counts what failed; see README.md
// for the scenarios and the numbers measured.
//
// The tests skip unless they run as root with KPROXY_E2E=1:
//
//	sudo KPROXY_E2E=1 go test -count=1 -v ./e2e/faults/
package faultse2e
