package iptablestest

// These are pure unit tests: they run no command and touch no kernel state.
// The kernel tests are in kernel_test.go and run under unshare --net.

import (
	"strings"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// The wanted forms below are what iptables-save v1.8.9 printed, for both
// the nft and the legacy variant, after restoring the input.
func TestCanonicalRules(t *testing.T) {
	cases := []struct {
		family iptables.Family
		table  iptables.Table
		in     string
		want   string
	}{
		{iptables.IPv4, "nat", `-p tcp -m comment --comment x --dport 80 --sport 1000:2000 -d 10.1.2.3 -j DNAT --to-destination 10.244.1.5:8080`,
			`-d 10.1.2.3/32 -p tcp -m comment --comment x -m tcp --sport 1000:2000 --dport 80 -j DNAT --to-destination 10.244.1.5:8080`},
		{iptables.IPv4, "nat", `-s 10.1.2.3/8 ! -d 10.1.2.3 -j MARK --or-mark 0x4000`, `-s 10.0.0.0/8 ! -d 10.1.2.3/32 -j MARK --set-xmark 0x4000/0x4000`},
		{iptables.IPv4, "nat", `-j MARK --set-mark 0x4000`, `-j MARK --set-xmark 0x4000/0xffffffff`},
		{iptables.IPv4, "nat", `-j MARK --set-xmark 0x00004000/0x4000`, `-j MARK --set-xmark 0x4000/0x4000`},
		{iptables.IPv4, "nat", `-j MARK --xor-mark 0x4000`, `-j MARK --set-xmark 0x4000/0x0`},
		{iptables.IPv4, "nat", `-j MARK --and-mark 0x4000`, `-j MARK --set-xmark 0x0/0xffffbfff`},
		{iptables.IPv4, "nat", `-m mark --mark 0x4000 -j RETURN`, `-m mark --mark 0x4000 -j RETURN`},
		{iptables.IPv4, "nat", `-m mark ! --mark 0x4000/0xffffffff -j RETURN`, `-m mark ! --mark 0x4000 -j RETURN`},
		{iptables.IPv4, "nat", `-m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully`, `-m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully`},
		{iptables.IPv4, "nat", `-p tcp -j MASQUERADE --to-ports 1000-2000`, `-p tcp -j MASQUERADE --to-ports 1000-2000`},
		{iptables.IPv4, "nat", `-m statistic --mode random --probability 0.5 -j T`, `-m statistic --mode random --probability 0.50000000000 -j T`},
		{iptables.IPv4, "nat", `-m statistic --mode random --probability 0.3333333333 -j T`, `-m statistic --mode random --probability 0.33333333349 -j T`},
		{iptables.IPv4, "nat", `-m statistic --mode nth --every 3 --packet 0 -j T`, `-m statistic --mode nth --every 3 --packet 0 -j T`},
		{iptables.IPv4, "nat", `-m addrtype --dst-type LOCAL --src-type LOCAL -j T`, `-m addrtype --src-type LOCAL --dst-type LOCAL -j T`},
		{iptables.IPv4, "nat", `-m addrtype ! --dst-type LOCAL -j T`, `-m addrtype ! --dst-type LOCAL -j T`},
		{iptables.IPv4, "nat", `-p udp -j REDIRECT --to-ports 15001`, `-p udp -j REDIRECT --to-ports 15001`},
		{iptables.IPv4, "nat", `-i eth+ -o lo -p sctp --dport 80 -j RETURN`, `-i eth+ -o lo -p sctp -m sctp --dport 80 -j RETURN`},
		{iptables.IPv4, "nat", `-m conntrack --ctstate NEW,DNAT -j RETURN`, `-m conntrack --ctstate NEW,DNAT -j RETURN`},
		{iptables.IPv4, "nat", `-m conntrack ! --ctstate ESTABLISHED,RELATED -j RETURN`, `-m conntrack ! --ctstate RELATED,ESTABLISHED -j RETURN`},
		{iptables.IPv4, "nat", `-p tcp -m multiport --dports 80,443,1000:2000 -j RETURN`, `-p tcp -m multiport --dports 80,443,1000:2000 -j RETURN`},
		{iptables.IPv4, "nat", `-p tcp -m tcp ! --dport 80 -j RETURN`, `-p tcp -m tcp ! --dport 80 -j RETURN`},
		{iptables.IPv4, "nat", `-m recent --set --name foo -j RETURN`, `-m recent --set --name foo --mask 255.255.255.255 --rsource -j RETURN`},
		{iptables.IPv4, "nat", `-m recent --update --seconds 5 --hitcount 2 --rdest -j RETURN`,
			`-m recent --update --seconds 5 --hitcount 2 --name DEFAULT --mask 255.255.255.255 --rdest -j RETURN`},
		{iptables.IPv4, "filter", `-m recent --name foo --rcheck --seconds 10 --reap -j ACCEPT`,
			`-m recent --rcheck --seconds 10 --reap --name foo --mask 255.255.255.255 --rsource -j ACCEPT`},
		{iptables.IPv4, "nat", `-p tcp --tcp-flags SYN,ACK SYN -j RETURN`, `-p tcp -m tcp --tcp-flags SYN,ACK SYN -j RETURN`},
		{iptables.IPv4, "nat", `-p tcp --syn -j RETURN`, `-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j RETURN`},
		{iptables.IPv4, "nat", `--protocol TCP --destination-port 22 --jump RETURN`, `-p tcp -m tcp --dport 22 -j RETURN`},
		{iptables.IPv4, "nat", `-p tcp --dport 22 -m comment --comment foo --sport 33 -j RETURN`, `-p tcp -m tcp --sport 33 --dport 22 -m comment --comment foo -j RETURN`},
		{iptables.IPv4, "nat", `-j SNAT --to-source 10.1.2.3`, `-j SNAT --to-source 10.1.2.3`},
		{iptables.IPv4, "nat", `-p tcp -j SNAT --to-source 10.244.1.5:1000-2000 --random`, `-p tcp -j SNAT --to-source 10.244.1.5:1000-2000 --random`},
		{iptables.IPv4, "nat", `-j LOG --log-prefix "hello world"`, `-j LOG --log-prefix "hello world"`},
		{iptables.IPv4, "nat", `-j CONNMARK --set-mark 0x1`, `-j CONNMARK --set-xmark 0x1/0xffffffff`},
		{iptables.IPv4, "nat", `-m comment --comment nospace -j T`, `-m comment --comment nospace -j T`},
		{iptables.IPv4, "nat", `-m comment --comment "ns/svc:p" -j T`, `-m comment --comment "ns/svc:p" -j T`},
		{iptables.IPv4, "nat", `-m comment --comment "with \"quote\"" -j T`, `-m comment --comment "with \"quote\"" -j T`},
		{iptables.IPv4, "filter", `-p tcp -m tcp --dport 80 -m comment --comment "a b" -j REJECT`,
			`-p tcp -m tcp --dport 80 -m comment --comment "a b" -j REJECT --reject-with icmp-port-unreachable`},
		{iptables.IPv4, "filter", `-m conntrack --ctstate INVALID -j DROP`, `-m conntrack --ctstate INVALID -j DROP`},
		{iptables.IPv4, "filter", `-i eth0 ! -s 10.0.0.0/8 -j ACCEPT`, `! -s 10.0.0.0/8 -i eth0 -j ACCEPT`},
		{iptables.IPv4, "filter", `-m comment --comment "ns/svc:p has no endpoints" -d 10.96.0.1 -p tcp --dport 443 -j REJECT`,
			`-d 10.96.0.1/32 -p tcp -m comment --comment "ns/svc:p has no endpoints" -m tcp --dport 443 -j REJECT --reject-with icmp-port-unreachable`},
		{iptables.IPv4, "filter", `-p tcp -j REJECT --reject-with tcp-reset`, `-p tcp -j REJECT --reject-with tcp-reset`},
		{iptables.IPv4, "filter", `-p tcp --dport 80`, `-p tcp -m tcp --dport 80`},
		{iptables.IPv4, "filter", `-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`, `-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`},
		{iptables.IPv4, "filter", `-p all -j ACCEPT`, `-j ACCEPT`},
		{iptables.IPv4, "filter", ``, ``},
		{iptables.IPv6, "nat", `-p tcp -m comment --comment x --dport 80 --sport 1000:2000 -d fd00::1 -j DNAT --to-destination [fd00::5]:8080`,
			`-d fd00::1/128 -p tcp -m comment --comment x -m tcp --sport 1000:2000 --dport 80 -j DNAT --to-destination [fd00::5]:8080`},
		{iptables.IPv6, "nat", `-s fd00::1:2/64 ! -d FD00::1 -j MARK --or-mark 0x4000`, `-s fd00::/64 ! -d fd00::1/128 -j MARK --set-xmark 0x4000/0x4000`},
		{iptables.IPv6, "nat", `-m recent --set --name foo -j RETURN`, `-m recent --set --name foo --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j RETURN`},
		{iptables.IPv6, "nat", `-j SNAT --to-source fd00::1`, `-j SNAT --to-source fd00::1`},
		{iptables.IPv6, "nat", `-p tcp -j SNAT --to-source [fd00::5]:1000-2000 --random`, `-p tcp -j SNAT --to-source [fd00::5]:1000-2000 --random`},
		{iptables.IPv6, "filter", `-p tcp -j REJECT`, `-p tcp -j REJECT --reject-with icmp6-port-unreachable`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			f := New(c.family)
			restore(t, f, lines("*"+string(c.table), ":C - [0:0]", ":T - [0:0]", "-A C "+c.in, "COMMIT"))
			rules := f.Rules(c.table, "C")
			if len(rules) != 1 || rules[0].Spec != c.want {
				t.Fatalf("got %q\nwant %q", specs(f, c.table, "C"), c.want)
			}
			// The canonical form reads back as itself.
			g := New(c.family)
			restore(t, g, lines("*"+string(c.table), ":C - [0:0]", ":T - [0:0]", rules[0].String(), "COMMIT"))
			if got := g.Rules(c.table, "C")[0].Spec; got != c.want {
				t.Fatalf("re-read as %q", got)
			}
		})
	}
}

func TestRuleArgs(t *testing.T) {
	f := New(iptables.IPv4)
	restore(t, f, lines("*nat", ":C - [0:0]", ":T - [0:0]",
		`-A C -p tcp --dport 80 -m comment --comment "ns/svc:p cluster IP" -m set ! --match-set S dst,dst -g T`, "COMMIT"))
	r := f.Rules("nat", "C")[0]
	if r.Target != "T" || !r.Goto || r.Comment() != "ns/svc:p cluster IP" {
		t.Fatalf("got target %q goto %v comment %q", r.Target, r.Goto, r.Comment())
	}
	set, ok := r.Get("set", "--match-set")
	if !ok || !set.Neg || set.Value != "S" || set.Value2 != "dst,dst" {
		t.Fatalf("set arg: %+v", set)
	}
	if dport, _ := r.Get("tcp", "--dport"); dport.Value != "80" {
		t.Fatalf("dport arg: %+v", dport)
	}
	if got := len(r.TargetArgs()); got != 1 {
		t.Fatalf("target args: %d", got)
	}
	if got := r.Matches()[0]; got.Flag != "-p" || got.Value != "tcp" {
		t.Fatalf("first match: %+v", got)
	}
}

func TestBadRules(t *testing.T) {
	cases := []struct {
		table iptables.Table
		rule  string
		want  string
	}{
		{"filter", "-p tcp --dport 80 --dport 81 -j ACCEPT", "only one"},
		{"filter", "--dport 80 -j ACCEPT", "unknown option"},
		{"filter", "-m tcp --dport 80 -j ACCEPT", "only valid with -p tcp"},
		{"nat", "-j DNAT --to-destination 1.2.3.4:80", "Need TCP"},
		{"nat", "-j REDIRECT --to-ports 80", "Need TCP"},
		{"nat", "-j DROP", "not intended for filtering"},
		{"nat", "-j REJECT", "not intended for filtering"},
		{"filter", "-p tcp -j DNAT --to-destination 1.2.3.4:80", "only valid in the nat table"},
		{"filter", "-d fd00::1 -j ACCEPT", "not IPv4"},
		{"filter", "-d 10.0.0.300 -j ACCEPT", "invalid address"},
		{"filter", "-s 10.0.0.1 -s 10.0.0.2 -j ACCEPT", "multiple -s"},
		{"filter", "-j ACCEPT -j DROP", "multiple -j"},
		{"filter", "-p tcp --dport 99999 -j ACCEPT", "invalid port"},
		{"filter", "-m statistic --mode random -j ACCEPT", "needs --probability"},
		{"filter", "-m statistic --mode random --probability 2 -j ACCEPT", "bad probability"},
		{"filter", "-m recent --name x -j ACCEPT", "need exactly one"},
		{"filter", "-m comment -j ACCEPT", "--comment is required"},
		{"filter", "-m conntrack --ctstate BOGUS -j ACCEPT", "bad conntrack state"},
		{"filter", "-m mark --mark nope -j ACCEPT", "bad mark"},
		{"filter", "-m set --match-set S up -j ACCEPT", "bad flag"},
		{"filter", "! ! -s 10.0.0.1 -j ACCEPT", "multiple !"},
		{"filter", "-j ACCEPT !", "! at the end"},
		{"filter", "-s", "requires an argument"},
		{"filter", "-p bogus -j ACCEPT", "unknown protocol"},
		{"filter", "-j NOSUCHCHAIN", `chain "NOSUCHCHAIN" does not exist`},
		{"filter", "-j INPUT", "built-in chain"},
		{"filter", "-j T --bogus", "unknown option"},
		{"filter", "-m comment --comment " + strings.Repeat("x", 256) + " -j ACCEPT", "shorter than 256"},
		{"filter", `-m comment --comment "unterminated -j ACCEPT`, "unterminated quote"},
		{"filter", "stray -j ACCEPT", "bad argument"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			f := New(iptables.IPv4)
			e := restoreErr(t, f, lines("*"+string(c.table), ":C - [0:0]", ":T - [0:0]", "-A C "+c.rule, "COMMIT"))
			if e.Line != 4 || !strings.Contains(e.Output, c.want) {
				t.Fatalf("got line %d %q, want line 4 and %q", e.Line, e.Output, c.want)
			}
			if f.Rules(c.table, "C") != nil {
				t.Fatalf("failed section left chain C behind")
			}
		})
	}
}
