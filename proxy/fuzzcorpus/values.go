package fuzzcorpus

import (
	"fmt"
	"math"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// family is the address family a value is meant for; the generator mostly keeps to
// it, so that programs get deep enough to reach the backends.
type family int

const (
	v4 family = iota
	v6
)

// validIP returns a well-formed address of f: mostly from the ranges tests use,
// sometimes an address with a special meaning (unspecified, loopback, multicast,
// link-local, broadcast) that still parses.
func (g *gen) validIP(f family) string {
	s := g.src
	if s.OneIn(6) { // a handful of addresses, so that slices share some
		return [][]string{{"10.1.0.1", "10.1.0.2", "10.2.0.1"}, {"fd00:1::1", "fd00:1::2", "fd00:2::1"}}[f][s.Intn(3)]
	}
	if f == v4 {
		if s.OneIn(8) {
			return Pick(s, "0.0.0.0", "255.255.255.255", "127.0.0.1", "224.0.0.1", "169.254.1.1", "192.168.0.10")
		}
		return fmt.Sprintf("10.%d.%d.%d", Pick(s, 96, 1, 2), s.Intn(4), s.Intn(256))
	}
	if s.OneIn(8) {
		return Pick(s, "::", "::1", "ff02::1", "fe80::1", "2001:db8::1", "fd00:192::10")
	}
	return fmt.Sprintf("fd00:%x::%x:%x", Pick(s, 0x96, 1, 2), s.Intn(4), s.Intn(256))
}

// ip returns an address string meant for family f: usually valid, else of the
// other family, IPv4-mapped, zoned, padded, malformed or raw fuzzer bytes.
func (g *gen) ip(f family) string {
	s := g.src
	switch s.Intn(16) {
	case 0:
		return g.validIP(1 - f)
	case 1:
		return "::ffff:" + g.validIP(v4)
	case 2:
		return Pick(s, "fe80::1%eth0", "fd00::1%1", "10.0.0.1%eth0")
	case 3:
		return Pick(s, "", " ", "None", "not-an-ip", "10.0.0.256", "1.2.3", "010.0.0.1", "10.0.0.0/8",
			"[fd00::1]", "fd00::1::2", "1.2.3.4\x00", "\n10.0.0.1", " 10.96.0.9 ", "ffff::ffff::", "0x0a000001")
	case 4:
		return s.Raw(48)
	}
	return g.validIP(f)
}

// cidr returns a load-balancer source range: valid of either family, not masked,
// without a length, out of range, padded, or garbage.
func (g *gen) cidr() string {
	s := g.src
	switch s.Intn(6) {
	case 0:
		return Pick(s, "bad", "", "10.0.0.1", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "fe80::/64%eth0", " 10.0.0.0/8 ", "0.0.0.0/0", "::/0")
	case 1:
		return s.Raw(24)
	case 2:
		return fmt.Sprintf("%s/%d", g.validIP(v6), s.Intn(129))
	}
	return fmt.Sprintf("%s/%d", g.validIP(v4), s.Intn(33))
}

// port returns a port number: usually a sensible one, else 0, negative, too big or
// any int32.
func (g *gen) port() int32 {
	s := g.src
	switch s.Intn(10) {
	case 0:
		return Pick[int32](s, 0, -1, 65536, -65535, 1, 65535, math.MaxInt32, math.MinInt32)
	case 1:
		return s.Int32()
	}
	return int32(1 + s.Intn(65535))
}

// nodePort returns a node port: mostly none, else as port.
func (g *gen) nodePort() int32 {
	if g.src.Intn(3) != 0 {
		return 0
	}
	if g.src.OneIn(2) {
		return int32(30000 + g.src.Intn(2768))
	}
	return g.port()
}

// protocol returns a protocol: the three kproxy knows, empty (TCP), or unknown ones.
func (g *gen) protocol() v1.Protocol {
	s := g.src
	if s.OneIn(6) {
		return v1.Protocol(g.odd(8, "", "tcp", "ICMP", "TCP ", "HTTP"))
	}
	return Pick(s, v1.ProtocolTCP, v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP)
}

// name returns an object or port name from a small pool of ordinary ones (so that
// events hit the same objects again), or an empty, huge or odd one.
func (g *gen) name(prefix string, pool int) string {
	s := g.src
	if s.OneIn(12) {
		return g.odd(20, "", strings.Repeat("x", 64), strings.Repeat("n", 300), "with space", `quo"te`, "new\nline",
			"ünïcödé", "-", "UPPER", "a/b", "dot.ted")
	}
	return fmt.Sprintf("%s%d", prefix, s.Intn(pool))
}

// odd returns one of pool or, as often as any one of them, up to raw bytes of input.
func (g *gen) odd(raw int, pool ...string) string {
	i := g.src.Intn(len(pool) + 1)
	if i == len(pool) {
		return g.src.Raw(raw)
	}
	return pool[i]
}
