package framework

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// printNetworkState writes to standard error what a failed test needs to tell
// a lost packet from a wrong rule: for each node, the TCP connections its
// conntrack table holds that are not closed (a connection that timed out
// left one there, naming where it was sent), the table's statistics and the
// DROP and REJECT rules that matched packets; for each node and pod, its
// neighbour table, its non-zero drop and retransmission counters and its
// links' counters.
func (c *Cluster) printNetworkState() {
	for _, n := range c.Nodes {
		c.printSection(n.Name+"'s conntrack: TCP entries not closed",
			unsettledFlows(runIn(n.NetNS(), "conntrack", "-L", "-p", "tcp")))
		c.printSection(n.Name+"'s conntrack statistics", runIn(n.NetNS(), "conntrack", "-S"))
		for _, save := range []string{"iptables-nft-save", "iptables-legacy-save"} {
			c.printSection(n.Name+"'s rules that dropped or rejected packets ("+save+")", droppingRules(runIn(n.NetNS(), save, "-c")))
		}
	}
	for _, ns := range c.namespaces() {
		c.printSection(ns+": neighbours", runIn(ns, "ip", "-s", "neigh"))
		c.printSection(ns+": drop and retransmission counters", lossCounters(runIn(ns, "nstat", "-asz")))
		c.printSection(ns+": links", runIn(ns, "ip", "-s", "link"))
	}
}

// namespaces returns the network namespaces of the nodes and pods.
func (c *Cluster) namespaces() []string {
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.NetNS())
	}
	c.mu.Lock()
	for _, p := range c.pods {
		if !p.HostNetwork {
			names = append(names, p.NetNS())
		}
	}
	c.mu.Unlock()
	slices.Sort(names)
	return names
}

// printSection writes one titled block to standard error.
func (c *Cluster) printSection(title, body string) {
	fmt.Fprintf(os.Stderr, "e2e: %s: ---- %s ----\n%s\n", c.t.Name(), title, strings.TrimRight(body, "\n"))
}

// runIn runs argv inside namespace ns and returns its output, or the error.
func runIn(ns string, argv ...string) string {
	out, err := command(append([]string{"ip", "netns", "exec", ns}, argv...)...)
	if err != nil {
		return err.Error()
	}
	return out
}

// unsettledFlows keeps the conntrack lines that are not closed.
func unsettledFlows(list string) string {
	return keepLines(list, func(l string) bool {
		return !strings.Contains(l, " TIME_WAIT ") && !strings.Contains(l, " CLOSE ")
	})
}

// lossCounters keeps nstat's non-zero counters of drops, overflows, failures
// and retransmissions.
func lossCounters(nstat string) string {
	return keepLines(nstat, func(l string) bool {
		f := strings.Fields(l)
		if len(f) < 2 || f[1] == "0" {
			return false
		}
		for _, word := range []string{"Drop", "Overflow", "Fail", "Retrans", "NoRoute", "Discard", "Error", "Timeout"} {
			if strings.Contains(f[0], word) {
				return true
			}
		}
		return false
	})
}

// droppingRules keeps the DROP and REJECT rules of an iptables-save -c dump
// that matched packets.
func droppingRules(save string) string {
	return keepLines(save, func(l string) bool {
		return !strings.HasPrefix(l, "[0:0]") && (strings.Contains(l, "-j DROP") || strings.Contains(l, "-j REJECT"))
	})
}

// keepLines returns the non-empty lines of text that keep accepts.
func keepLines(text string, keep func(string) bool) string {
	var kept []string
	for _, l := range strings.Split(text, "\n") {
		if l != "" && keep(l) {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}
