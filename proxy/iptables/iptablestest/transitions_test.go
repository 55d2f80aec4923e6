package iptablestest

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"

	"github.com/kproxy/kproxy/proxy/iptables"
)

// config maps a service index to its number of endpoints.
type config map[int]int

// render writes cfg as a mode would: every chain of cfg declared and
// filled, the chains of prev that cfg lacks deleted.
func render(p *iptables.Payload, syn Synthetic, prev, cfg config) {
	nat := iptables.TableNAT
	p.Chain(nat, SyntheticServicesChain)
	for i := 0; i < syn.Services; i++ {
		n, ok := cfg[i]
		if !ok {
			continue
		}
		svc := syn.ServiceChain(i)
		p.Chain(nat, svc)
		p.Rule(nat, SyntheticServicesChain, "-d", syn.ServiceIP(i).String(), "-p", "tcp", "--dport", "80", "-j", svc)
		for j := 0; j < n; j++ {
			sep := syn.EndpointChain(i, j)
			p.Chain(nat, sep)
			if j < n-1 {
				p.Rule(nat, svc, "-m", "statistic", "--mode", "random", "--probability", probability(n-j), "-j", sep)
			} else {
				p.Rule(nat, svc, "-j", sep)
			}
			p.Rule(nat, sep, "-p", "tcp", "-j", "DNAT", "--to-destination", netip.AddrPortFrom(syn.EndpointIP(i, j), 8080).String())
		}
	}
	for i, n := range prev {
		m, ok := cfg[i]
		if !ok {
			p.DeleteChain(nat, syn.ServiceChain(i))
		}
		for j := m; j < n; j++ {
			p.DeleteChain(nat, syn.EndpointChain(i, j))
		}
	}
}

// Random transitions between configurations, some failing part way, end in
// the state a fresh fake reaches from the final configuration alone.
func TestRandomTransitions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	syn := Synthetic{Family: iptables.IPv4, Services: 30, Endpoints: 3}
	f := New(iptables.IPv4)
	var p iptables.Payload
	prev := config{}
	for step := 0; step < 300; step++ {
		cfg := config{}
		for i := 0; i < syn.Services; i++ {
			if rng.IntN(3) > 0 {
				cfg[i] = 1 + rng.IntN(syn.Endpoints)
			}
		}
		p.Reset()
		render(&p, syn, prev, cfg)
		payload, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(4) == 0 {
			// Break a random rule line: the whole section must roll back.
			before := f.Dump()
			lines := bytes.Split(payload, []byte("\n"))
			k := 1 + rng.IntN(len(lines)-3)
			lines[k] = []byte("-A " + SyntheticServicesChain + " -j KUBE-NOWHERE-" + strconv.Itoa(step))
			restoreErr(t, f, string(bytes.Join(lines, []byte("\n"))))
			if f.Dump() != before {
				t.Fatalf("step %d: a failed restore changed the state", step)
			}
			continue // prev stays: the next render deletes from it
		}
		restore(t, f, string(payload))
		prev = cfg

		fresh := New(iptables.IPv4)
		p.Reset()
		render(&p, syn, nil, cfg)
		want, _ := p.Bytes()
		restore(t, fresh, string(want))
		if f.Dump() != fresh.Dump() {
			t.Fatalf("step %d: state differs from a fresh sync:\n%s\nwant:\n%s", step, f.Dump(), fresh.Dump())
		}
		for i, n := range cfg {
			if got := f.References(iptables.TableNAT, syn.ServiceChain(i)); got != 1 {
				t.Fatalf("step %d: service %d chain has %d references", step, i, got)
			}
			if got := f.References(iptables.TableNAT, syn.EndpointChain(i, n-1)); got != 1 {
				t.Fatalf("step %d: endpoint chain has %d references", step, got)
			}
		}
	}
}
