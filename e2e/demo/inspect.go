package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// showRules prints the nat KUBE-SERVICES chain of node-1, as a user would
// list it on the node.
func (d *demo) showRules() {
	n := d.c.Nodes[0]
	d.p.Section(4, steps, "iptables rules on "+n.Name+": the nat table's KUBE-SERVICES chain")
	argv := []string{"iptables", "-t", "nat", "-L", "KUBE-SERVICES", "-n"}
	d.p.Linef("$ ip netns exec %s %s", n.NS, strings.Join(argv, " "))
	d.p.Block("  ", d.c.Exec(d.t, n, argv...))
	d.p.Linef("(one KUBE-SVC-* jump per Service port; KUBE-NODEPORTS, last, takes traffic to node IPs)")
}

// showMetrics prints node-1's kproxy sync metrics and fails the demo when
// one is missing.
func (d *demo) showMetrics() {
	k := d.kps[0]
	d.p.Section(5, steps, fmt.Sprintf("Sync metrics of kproxy on %s (http://%s/metrics)", k.Node.Name, framework.KProxyMetricsAddr))
	lines, missing := syncMetrics(k.Metrics(d.t), time.Now())
	d.p.Block("  ", strings.Join(lines, "\n"))
	if len(missing) > 0 {
		d.p.Linef("FAIL: not exported: %s", strings.Join(missing, ", "))
		d.t.Fail()
	}
}

// showState prints the demo's Services from node-1's /debug/state.
func (d *demo) showState() {
	k := d.kps[0]
	d.p.Section(6, steps, fmt.Sprintf("kproxy's /debug/state on %s (the demo's Services)", k.Node.Name))
	ours := map[string]bool{}
	for _, s := range d.svcs {
		ours[s.obj.Namespace+"/"+s.obj.Name] = true
	}
	lines, omitted := stateExcerpt(k.DebugState(d.t), func(name string) bool { return ours[name] })
	d.p.Block("  ", strings.Join(lines, "\n"))
	if len(omitted) > 0 {
		d.p.Linef("(left out: %s)", strings.Join(omitted, ", "))
	}
}
