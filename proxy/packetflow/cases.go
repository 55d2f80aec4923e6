package packetflow

import (
	"net/netip"

	v1 "k8s.io/api/core/v1"
)

// standardCases are the cases of Standard.
func standardCases(a Addresses, masqAll bool) []Case {
	pod := a.IP("10.0.1.100")      // a pod on this node, endpoint of nothing
	outside := a.IP("203.0.113.5") // a client outside the cluster, inside svc7's source range
	stranger := a.IP("198.51.100.9")
	node := a.IP("192.168.0.10")
	tcp := v1.ProtocolTCP
	to := func(src netip.Addr, dst string, port uint16) Case {
		return Case{Source: src, Protocol: tcp, Dest: a.IP(dst), Port: port}
	}
	eps := a.AddrPorts
	cases := []Case{
		with(to(pod, "172.30.0.41", 80), "cluster IP from a pod", eps("10.0.1.1:8080", "10.0.2.1:8080", "10.0.2.2:8080"), masqAll),
		with(to(outside, "172.30.0.41", 80), "cluster IP from outside the cluster CIDR", eps("10.0.1.1:8080", "10.0.2.1:8080", "10.0.2.2:8080"), true),
		local(with(to(node, "172.30.0.41", 80), "cluster IP from the node", eps("10.0.1.1:8080", "10.0.2.1:8080", "10.0.2.2:8080"), true)),
		hairpin(with(to(a.IP("10.0.1.1"), "172.30.0.41", 80), "hairpin: endpoint to its own service", eps("10.0.1.1:8080", "10.0.2.1:8080", "10.0.2.2:8080"), masqAll), a.AddrPort("10.0.1.1:8080")),
		verdict(to(pod, "172.30.0.42", 80), "cluster IP without endpoints", Rejected),
		verdict(to(outside, "192.168.0.10", 3002), "node port without endpoints", Rejected),
		with(to(outside, "192.168.0.10", 3003), "node port from outside", eps("10.0.1.3:80", "10.0.2.3:80"), true),
		local(with(to(node, "192.168.0.10", 3003), "node port from the node", eps("10.0.1.3:80", "10.0.2.3:80"), true)),
		with(to(outside, "192.168.0.10", 3004), "node port, external policy Local, from outside", eps("10.0.1.4:80"), false),
		with(to(pod, "192.168.0.10", 3004), "node port, external policy Local, from a pod", eps("10.0.1.4:80", "10.0.2.4:80"), false),
		local(with(to(node, "192.168.0.10", 3004), "node port, external policy Local, from the node", eps("10.0.1.4:80", "10.0.2.4:80"), true)),
		with(to(pod, "172.30.0.44", 80), "cluster IP, external policy Local", eps("10.0.1.4:80", "10.0.2.4:80"), masqAll),
		verdict(to(outside, "192.168.0.10", 3005), "node port, external policy Local, no local endpoint", Dropped),
		with(to(pod, "172.30.0.45", 80), "cluster IP, external policy Local, no local endpoint", eps("10.0.2.5:80"), masqAll),
		with(to(pod, "192.168.0.10", 3005), "node port, no local endpoint, from a pod", eps("10.0.2.5:80"), false),
		with(to(outside, "192.168.99.11", 80), "external IP from outside", eps("10.0.2.6:80"), true),
		with(to(pod, "192.168.99.11", 80), "external IP from a pod", eps("10.0.2.6:80"), true),
		with(to(outside, "5.6.7.8", 80), "load-balancer IP from an allowed source", eps("10.0.2.7:80"), true),
		verdict(to(stranger, "5.6.7.8", 80), "load-balancer IP from a source outside the ranges", Dropped),
		with(to(stranger, "192.168.0.10", 3007), "node port of a service with source ranges", eps("10.0.2.7:80"), true),
		with(to(pod, "172.30.0.48", 80), "session affinity", eps("10.0.1.8:80", "10.0.2.8:80"), masqAll),
		with(Case{Source: pod, Protocol: v1.ProtocolUDP, Dest: a.IP("172.30.0.49"), Port: 53}, "UDP cluster IP", eps("10.0.1.9:53", "10.0.2.9:53"), masqAll),
		with(to(pod, "172.30.0.50", 80), "internal policy Local", eps("10.0.1.10:80"), masqAll),
		verdict(to(pod, "172.30.0.51", 80), "internal policy Local, no local endpoint", Dropped),
		with(to(outside, "5.6.7.9", 80), "load-balancer IP, external policy Local", eps("10.0.1.12:80"), false),
	}
	return cases
}

// with names c and sets its endpoints and masquerading.
func with(c Case, name string, eps []netip.AddrPort, masq bool) Case {
	c.Name, c.Endpoints, c.Masquerade = name, eps, masq
	return c
}

// verdict names c and sets its verdict.
func verdict(c Case, name string, v Verdict) Case {
	c.Name, c.Verdict = name, v
	return c
}

// local marks c as sent by the node itself.
func local(c Case) Case {
	c.Local = true
	return c
}

// hairpin makes only self masqueraded, unless every outcome already is.
func hairpin(c Case, self netip.AddrPort) Case {
	if !c.Masquerade {
		c.MasqueradeOnly = []netip.AddrPort{self}
	}
	return c
}
