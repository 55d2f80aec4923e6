// Package traffic sends test traffic and tallies who answered. It knows the
// echo server's reply ("<pod> <client-address>", see FormatReply) and turns N
// TCP connections, UDP datagrams or HTTP requests to one address into a Result:
// a histogram of answering pods, the client addresses they saw, and the
// failures split into refused, timed out, reset and other.
//
// Run takes a Within hook so the same code serves the echo binary's client
// mode (run in the caller's namespace) and the e2e framework (workers that
// joined a pod's, node's or client's network namespace with package netns).
package traffic
