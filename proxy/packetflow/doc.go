// Package packetflow holds kproxy's packet-flow test cases, shared by every mode.
//
// A Case is one packet (source, protocol, destination, port, whether it starts on
// the node) and what must become of it: the set of endpoints it may reach, or
// REJECT, or DROP, and whether its source is masqueraded. A Scenario bundles a
// snapshot (built with Builder through the real proxy.Table, from Service and
// EndpointSlice objects) with the backend settings it assumes and its cases. Each
// mode runs the cases through its own fake's packet tracer; the real-kernel e2e
// tests can run the same list.
package packetflow
