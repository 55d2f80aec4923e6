package iptablesmode

import (
	"slices"
)

// baseJump is a rule in a built-in chain that sends packets into a kproxy chain.
type baseJump struct {
	chain, spec, target string
}

// Comments of the jumps from built-in chains, word for word upstream's.
const (
	commentPortals         = `-m comment --comment "kubernetes service portals"`
	commentExternalPortals = `-m comment --comment "kubernetes externally-visible service portals"`
	commentHealthCheck     = `-m comment --comment "kubernetes health check service ports"`
	commentForward         = `-m comment --comment "kubernetes forwarding rules"`
	commentFirewall        = `-m comment --comment "kubernetes load balancer firewall"`
	commentPostrouting     = `-m comment --comment "kubernetes postrouting rules"`
	ctNew                  = "-m conntrack --ctstate NEW "
)

// filterJumps returns the jumps of the filter table in the order they must appear at
// the top of each built-in chain (the order upstream's repeated prepends give).
func (c *config) filterJumps() []baseJump {
	j := func(chain, spec, target string) baseJump { return baseJump{chain, spec + " -j " + target, target} }
	var jumps []baseJump
	if c.localhostNodePorts {
		jumps = append(jumps, baseJump{"INPUT", "-j " + chainLocalnetFirewall, chainLocalnetFirewall})
	}
	jumps = append(jumps,
		j("INPUT", ctNew+commentFirewall, chainProxyFirewall),
		j("INPUT", commentHealthCheck, chainNodePorts),
		j("INPUT", ctNew+commentExternalPortals, chainExternalServices),
		j("FORWARD", ctNew+commentFirewall, chainProxyFirewall),
		j("FORWARD", commentForward, chainForward),
		j("FORWARD", ctNew+commentPortals, chainServices),
		j("FORWARD", ctNew+commentExternalPortals, chainExternalServices),
	)
	if c.localhostNodePorts {
		jumps = append(jumps, baseJump{"OUTPUT", "-j " + chainLocalnetFirewall, chainLocalnetFirewall})
	}
	return append(jumps,
		j("OUTPUT", ctNew+commentFirewall, chainProxyFirewall),
		j("OUTPUT", ctNew+commentPortals, chainServices),
	)
}

// natJumps returns the jumps of the nat table.
func (c *config) natJumps() []baseJump {
	return []baseJump{
		{"PREROUTING", commentPortals + " -j " + chainServices, chainServices},
		{"OUTPUT", commentPortals + " -j " + chainServices, chainServices},
		{"POSTROUTING", commentPostrouting + " -j " + chainPostrouting, chainPostrouting},
	}
}

// fixJumps returns the restore lines that make each built-in chain of saved hold
// exactly the wanted jumps, once each and in order, at its top. A chain whose jumps
// into kproxy's chains already are the wanted ones is left alone; otherwise they
// are all deleted (by their saved text) and the wanted ones inserted.
func fixJumps(saved savedTable, want []baseJump) string {
	targets := map[string]bool{}
	var chains []string
	for _, w := range want {
		targets[w.target] = true
		if !slices.Contains(chains, w.chain) {
			chains = append(chains, w.chain)
		}
	}
	var b lineBuf
	for _, chain := range chains {
		var have, specs []string
		for _, r := range saved.rules {
			if r.chain == chain && targets[r.target] {
				have = append(have, r.spec)
			}
		}
		for _, w := range want {
			if w.chain == chain {
				specs = append(specs, w.spec)
			}
		}
		if slices.Equal(have, specs) {
			continue
		}
		for _, h := range have {
			b.op("-D", chain, h)
		}
		for i, s := range specs {
			b.insert(chain, i+1, s)
		}
	}
	return b.String()
}
