package iptablestest

import (
	"context"
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// Synthetic describes a kube-proxy-like nat ruleset of many services, for
// benchmarks and tests. Service i has cluster IP ServiceIP(i), TCP port 80,
// and Endpoints endpoints EndpointIP(i, j) on port 8080, picked at random
// with statistic matches. Masquerading is marked with 0x4000 and done in
// KUBE-POSTROUTING. The ruleset declares every chain it writes, so writing
// it again replaces it.
type Synthetic struct {
	Family    iptables.Family
	Services  int
	Endpoints int
}

// Synthetic chain names.
const (
	SyntheticServicesChain    = "KUBE-SERVICES"
	SyntheticMarkChain        = "KUBE-MARK-MASQ"
	SyntheticPostroutingChain = "KUBE-POSTROUTING"
)

// ServiceIP returns the cluster IP of service i.
func (s Synthetic) ServiceIP(i int) netip.Addr { return s.addr(0x0a600000, 0xfd000096, i) }

// EndpointIP returns the address of endpoint j of service i.
func (s Synthetic) EndpointIP(i, j int) netip.Addr {
	return s.addr(0x0a800000, 0xfd000128, i*s.Endpoints+j)
}

func (s Synthetic) addr(base4, base6 uint32, n int) netip.Addr {
	if s.Family == iptables.IPv6 {
		var b [16]byte
		binary.BigEndian.PutUint32(b[:4], base6)
		binary.BigEndian.PutUint32(b[12:], uint32(n)+1)
		return netip.AddrFrom16(b)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], base4+uint32(n)+1)
	return netip.AddrFrom4(b)
}

// ServiceChain returns the name of service i's chain.
func (s Synthetic) ServiceChain(i int) string { return "KUBE-SVC-" + hex(uint64(i), 16) }

// EndpointChain returns the name of the chain of endpoint j of service i.
func (s Synthetic) EndpointChain(i, j int) string {
	return "KUBE-SEP-" + hex(uint64(i), 12) + hex(uint64(j), 4)
}

func hex(v uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = "0123456789ABCDEF"[v&15]
		v >>= 4
	}
	return string(b)
}

// Lines returns how many lines Write produces.
func (s Synthetic) Lines() int {
	return 10 + s.Services*(2+4*s.Endpoints)
}

// Write renders the ruleset into p's nat table.
func (s Synthetic) Write(p *iptables.Payload) {
	nat := iptables.TableNAT
	bits := "/32"
	if s.Family == iptables.IPv6 {
		bits = "/128"
	}
	p.Chain(nat, SyntheticServicesChain)
	p.Chain(nat, SyntheticMarkChain)
	p.Chain(nat, SyntheticPostroutingChain)
	p.Rule(nat, SyntheticMarkChain, "-j", "MARK", "--or-mark", "0x4000")
	p.Rule(nat, SyntheticPostroutingChain, "-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN")
	p.Rule(nat, SyntheticPostroutingChain, "-j", "MARK", "--xor-mark", "0x4000")
	p.Rule(nat, SyntheticPostroutingChain, "-m", "comment", "--comment", "kubernetes service traffic requiring SNAT", "-j", "MASQUERADE")
	for i := 0; i < s.Services; i++ {
		svc := s.ServiceChain(i)
		name := "ns/svc-" + strconv.Itoa(i) + ":http"
		p.Chain(nat, svc)
		p.Rule(nat, SyntheticServicesChain, "-d", s.ServiceIP(i).String()+bits, "-p", "tcp",
			"-m", "comment", "--comment", name+" cluster IP", "-m", "tcp", "--dport", "80", "-j", svc)
		for j := 0; j < s.Endpoints; j++ {
			sep := s.EndpointChain(i, j)
			ep := s.EndpointIP(i, j)
			p.Chain(nat, sep)
			if j < s.Endpoints-1 {
				p.Rule(nat, svc, "-m", "comment", "--comment", name, "-m", "statistic", "--mode", "random",
					"--probability", probability(s.Endpoints-j), "-j", sep)
			} else {
				p.Rule(nat, svc, "-m", "comment", "--comment", name, "-j", sep)
			}
			p.Rule(nat, sep, "-s", ep.String()+bits, "-m", "comment", "--comment", name, "-j", SyntheticMarkChain)
			p.Rule(nat, sep, "-p", "tcp", "-m", "comment", "--comment", name, "-m", "tcp",
				"-j", "DNAT", "--to-destination", netip.AddrPortFrom(ep, 8080).String())
		}
	}
	p.Rule(nat, SyntheticServicesChain, "-m", "comment", "--comment", "kubernetes service nodeports",
		"-m", "addrtype", "--dst-type", "LOCAL", "-j", "RETURN")
}

// probability is the chance of picking the first of n remaining endpoints,
// written as kube-proxy writes it.
func probability(n int) string {
	return strconv.FormatFloat(1/float64(n), 'f', 10, 64)
}

// Bootstrap adds the jumps from the nat built-in chains into the ruleset.
// They name Write's chains, so it runs after the first Restore of Write's
// output.
func (s Synthetic) Bootstrap(ctx context.Context, r iptables.Restorer) error {
	jumps := []struct{ from, to string }{
		{iptables.ChainPrerouting, SyntheticServicesChain},
		{iptables.ChainOutput, SyntheticServicesChain},
		{iptables.ChainPostrouting, SyntheticPostroutingChain},
	}
	for _, j := range jumps {
		if _, err := r.EnsureRule(ctx, iptables.Append, iptables.TableNAT, j.from,
			"-m", "comment", "--comment", "kubernetes service portals", "-j", j.to); err != nil {
			return err
		}
	}
	return nil
}
