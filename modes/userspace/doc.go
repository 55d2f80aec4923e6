// Package userspace is kproxy's userspace proxy mode (--proxy-mode=userspace):
// kproxy itself carries the traffic of every service port.
//
// Each TCP or UDP service port gets a listener on --bind-address, with a port from
// --proxy-port-range. A second listener serves the port's external traffic (node
// port, external and load-balancer IPs) when its traffic policy selects other
// endpoints than internal traffic does. Portal rules in the nat table send service
// traffic to the listeners. They are rendered by a pure function into
// iptables-restore input and applied with one restore per sync.
//
// A listener balances new connections (TCP) or client sessions (UDP) round robin
// over the endpoints the node selected, honouring ClientIP session affinity. If a
// dial fails it tries the next endpoint. TCP connections are relayed by one
// event loop per CPU (an epoll instance of its own, waited on through Go's
// poller) rather than by goroutines per connection: small messages with a read
// and a write through the loop's buffer, bulk data with splice(2), half-closes
// and resets passed on. UDP sessions expire
// after --udp-timeout of silence. README.md describes the chains, listeners and
// timeouts.
package userspace
