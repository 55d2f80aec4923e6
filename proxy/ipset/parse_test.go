package ipset

import (
	"slices"
	"testing"
)

// A real "ipset save" output (ipset 7.x), with options kproxy does not use.
const saved = `create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x5e3f2a1b
add KUBE-6-CLUSTER-IP fd00::10:0:0:1,tcp:443
add KUBE-6-CLUSTER-IP fd00::a,udp:53
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30080
create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 1024 maxelem 65536 comment
add KUBE-LOAD-BALANCER-SOURCE-CIDR 5.6.7.8,tcp:80,203.0.113.0/24 comment "x y"
add KUBE-LOAD-BALANCER-SOURCE-CIDR 5.6.7.8,tcp:80,198.51.100.9
create other list:set size 8
add other KUBE-NODE-PORT-TCP
`

func TestParseSave(t *testing.T) {
	sets, err := ParseSave([]byte(saved))
	if err != nil {
		t.Fatal(err)
	}
	want := []Contents{
		{Set{Name: "KUBE-6-CLUSTER-IP", Type: HashIPPort, Family: Inet6, HashSize: 1024, MaxElem: 65536},
			[]string{"fd00::10:0:0:1,tcp:443", "fd00::a,udp:53"}},
		{Set{Name: "KUBE-LOAD-BALANCER-SOURCE-CIDR", Type: HashIPPortNet, Family: Inet, HashSize: 1024, MaxElem: 65536},
			[]string{"5.6.7.8,tcp:80,198.51.100.9", "5.6.7.8,tcp:80,203.0.113.0/24"}},
		{Set{Name: "KUBE-NODE-PORT-TCP", Type: BitmapPort}, []string{"30080"}},
		{Set{Name: "other", Type: "list:set"}, nil},
	}
	if !slices.EqualFunc(sets, want, func(a, b Contents) bool { return a.Set == b.Set && slices.Equal(a.Entries, b.Entries) }) {
		t.Errorf("ParseSave:\n%+v\nwant:\n%+v", sets, want)
	}
}

func TestParseSaveErrors(t *testing.T) {
	for _, in := range []string{
		"add A 10.0.0.1\n",
		"create A hash:ip family inet\nadd A fd00::1\n",
		"create\n",
	} {
		if _, err := ParseSave([]byte(in)); err == nil {
			t.Errorf("ParseSave(%q) gave no error", in)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		out, version string
		ok           bool
	}{
		{"ipset v7.19, protocol version: 7\n", "7.19", true},
		{"ipset v6.38, protocol version: 6\n", "6.38", true},
		{"ipset v5.4.1, protocol version: 5\n", "5.4.1", false},
	} {
		v, err := ParseVersion(tc.out)
		if err != nil || v != tc.version {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q", tc.out, v, err, tc.version)
		}
		if err := CheckVersion(v); (err == nil) != tc.ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", v, err, tc.ok)
		}
	}
	if _, err := ParseVersion("command not found"); err == nil {
		t.Error("ParseVersion of garbage gave no error")
	}
}
