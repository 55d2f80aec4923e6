package iptables

// These are pure unit tests: they run no command and touch no kernel state.
// The kernel tests are in kernel_test.go and run under unshare --net.

import (
	"context"
	"errors"
	"testing"
)

func TestBinaries(t *testing.T) {
	cases := []struct {
		f    Family
		v    Variant
		want Binaries
	}{
		{IPv4, VariantDefault, Binaries{"iptables", "iptables-save", "iptables-restore"}},
		{IPv4, VariantNFT, Binaries{"iptables-nft", "iptables-nft-save", "iptables-nft-restore"}},
		{IPv6, VariantLegacy, Binaries{"ip6tables-legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore"}},
		{IPv6, VariantNFT, Binaries{"ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore"}},
	}
	for _, c := range cases {
		if got := c.v.Binaries(c.f); got != c.want {
			t.Errorf("%v %v: got %+v, want %+v", c.f, c.v, got, c.want)
		}
	}
}

func TestDetect(t *testing.T) {
	const hint = "*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n"
	const canary = "*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n"
	const twoRules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"
	const oneRule = "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"
	cases := []struct {
		name    string
		outputs map[string]string // save command -> output; absent = not installed
		want    Variant
	}{
		{"nothing installed", nil, VariantDefault},
		{"only legacy installed", map[string]string{"iptables-legacy-save": ""}, VariantLegacy},
		{"only nft installed", map[string]string{"iptables-nft-save": ""}, VariantNFT},
		{"empty node prefers nft", map[string]string{"iptables-nft-save": "", "iptables-legacy-save": ""}, VariantNFT},
		{"nft hint", map[string]string{"iptables-nft-save": hint, "iptables-legacy-save": twoRules}, VariantNFT},
		{"legacy hint beats nft rules", map[string]string{"iptables-nft-save": twoRules, "iptables-legacy-save": hint}, VariantLegacy},
		{"legacy canary in ipv6 only", map[string]string{"iptables-nft-save": twoRules, "iptables-legacy-save": "", "ip6tables-legacy-save": canary}, VariantLegacy},
		{"more legacy rules", map[string]string{"iptables-nft-save": oneRule, "iptables-legacy-save": twoRules}, VariantLegacy},
		{"more nft rules", map[string]string{"iptables-nft-save": twoRules, "iptables-legacy-save": oneRule}, VariantNFT},
		{"rule counts summed over families", map[string]string{"iptables-nft-save": twoRules, "iptables-legacy-save": oneRule, "ip6tables-legacy-save": twoRules}, VariantLegacy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			look := func(name string) (string, error) {
				if _, ok := c.outputs[name]; ok {
					return "/usr/sbin/" + name, nil
				}
				return "", errors.New("not found")
			}
			run := func(_ context.Context, name string, _ ...string) ([]byte, error) {
				return []byte(c.outputs[name]), nil
			}
			got, err := detect(context.Background(), run, look)
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
