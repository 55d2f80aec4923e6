package ipset

import (
	"net/netip"
	"testing"
)

func TestConstructorsAreCanonical(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")
	for _, tc := range []struct {
		typ    Type
		family Family
		entry  string
		want   string
	}{
		{HashIP, Inet, IP(v4), "10.0.0.1"},
		{HashIPPort, Inet, IPPort(v4, "TCP", 80), "10.0.0.1,tcp:80"},
		{HashIPPort, Inet6, IPPort(v6, "udp", 53), "fd00::1,udp:53"},
		{HashIPPortIP, Inet, IPPortIP(v4, "sctp", 9, v4), "10.0.0.1,sctp:9,10.0.0.1"},
		{HashIPPortNet, Inet, IPPortNet(v4, "tcp", 80, netip.MustParsePrefix("203.0.113.7/24")), "10.0.0.1,tcp:80,203.0.113.0/24"},
		{HashIPPortNet, Inet, IPPortNet(v4, "tcp", 80, netip.MustParsePrefix("203.0.113.7/32")), "10.0.0.1,tcp:80,203.0.113.7"},
		{BitmapPort, "", Port(30080), "30080"},
	} {
		if tc.entry != tc.want {
			t.Errorf("constructor gave %q, want %q", tc.entry, tc.want)
		}
		got, err := Canonical(tc.typ, tc.family, tc.entry)
		if err != nil || got != tc.entry {
			t.Errorf("Canonical(%s, %q) = %q, %v; want it unchanged", tc.typ, tc.entry, got, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		name   string
		typ    Type
		family Family
		entry  string
		want   string // "" when it must fail
	}{
		{"port without protocol is tcp", HashIPPort, Inet, "10.0.0.1,80", "10.0.0.1,tcp:80"},
		{"protocol case", HashIPPort, Inet, "10.0.0.1,UDP:53", "10.0.0.1,udp:53"},
		{"ipv6 long form", HashIPPort, Inet6, "fd00:0:0::0001,tcp:80", "fd00::1,tcp:80"},
		{"host net loses its length", HashIPPortNet, Inet6, "fd00::1,tcp:80,fd00::2/128", "fd00::1,tcp:80,fd00::2"},
		{"net is masked", HashIPPortNet, Inet, "10.0.0.1,tcp:80,10.1.2.3/8", "10.0.0.1,tcp:80,10.0.0.0/8"},
		{"bitmap keeps the number", BitmapPort, "", "udp:30053", "30053"},
		{"wrong family", HashIP, Inet, "fd00::1", ""},
		{"mapped address in inet6", HashIP, Inet6, "::ffff:10.0.0.1", ""},
		{"too few parts", HashIPPortIP, Inet, "10.0.0.1,tcp:80", ""},
		{"bad port", HashIPPort, Inet, "10.0.0.1,tcp:http", ""},
		{"unknown protocol", HashIPPort, Inet, "10.0.0.1,icmp:0", ""},
		{"slash zero", HashIPPortNet, Inet, "10.0.0.1,tcp:80,0.0.0.0/0", ""},
		{"unknown type", Type("list:set"), "", "x", ""},
	} {
		got, err := Canonical(tc.typ, tc.family, tc.entry)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: Canonical(%q) = %q, want an error", tc.name, tc.entry, got)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%s: Canonical(%q) = %q, %v; want %q", tc.name, tc.entry, got, err, tc.want)
		}
	}
}

func TestSetValidate(t *testing.T) {
	for _, tc := range []struct {
		set Set
		ok  bool
	}{
		{Set{Name: "KUBE-CLUSTER-IP", Type: HashIPPort, Family: Inet}, true},
		{Set{Name: "KUBE-NODE-PORT-TCP", Type: BitmapPort}, true},
		{Set{Name: "KUBE-6-LOAD-BALANCER-SOURCE-CIDR", Type: HashIPPortNet, Family: Inet6}, false}, // 32 characters
		{Set{Name: "X", Type: HashIP}, false},
		{Set{Name: "with space", Type: BitmapPort}, false},
		{Set{Name: "X", Type: "hash:mac", Family: Inet}, false},
	} {
		if err := tc.set.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.set, err, tc.ok)
		}
	}
}
