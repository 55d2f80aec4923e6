package main

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// steps is the number of numbered sections the demo prints.
const steps = 7

// demo is one run: the cluster and what the steps put in it.
type demo struct {
	t     testing.TB
	p     *printer
	c     *framework.Cluster
	kps   []*framework.KProxy // kps[i] runs on c.Nodes[i]
	pods  map[string]*framework.Pod
	svcs  []*service
	clean cleanupReport
}

// runDemo runs every step; the cleanup report comes from the cleanups.
func runDemo(t testing.TB, p *printer) {
	d := &demo{t: t, p: p, pods: map[string]*framework.Pod{}}
	d.intro()
	// Registered before the cluster, so it runs after the teardown.
	t.Cleanup(d.verifyCleanup)
	d.buildCluster()
	d.createServices()
	d.sendTraffic()
	d.showRules()
	d.showMetrics()
	d.showState()
}

// intro says what is about to happen.
func (d *demo) intro() {
	d.p.Raw(`
kproxy demo
===========
Everything runs on this machine in network namespaces named kpe2e-*; the
host's own interfaces, routes and iptables rules are not touched.

  1. a control plane (kube-apiserver + etcd) and two nodes, each running kproxy --proxy-mode iptables
  2. pods running an echo server, and three Services: ClusterIP "web" (3 pods over both nodes),
     NodePort "api", and "cart" with sessionAffinity ClientIP
  3. real TCP connections to each Service, and which pod answered them
  4-6. the iptables rules, sync metrics and /debug/state of a node's kproxy
  7. cleanup of every namespace and process (also on failure or Ctrl-C)
`)
}

// buildCluster starts the control plane, the nodes and kproxy on each.
func (d *demo) buildCluster() {
	d.p.Section(1, steps, "Control plane and two nodes running kproxy (iptables mode)")
	start := time.Now()
	d.c = framework.New(d.t, framework.Options{Nodes: 2, Clients: 1})
	d.t.Cleanup(d.beginCleanup) // registered after the teardown: runs before it
	up := time.Since(start)
	start = time.Now()
	for _, n := range d.c.Nodes {
		d.kps = append(d.kps, d.c.StartKProxy(d.t, n, framework.KProxyOptions{Mode: "iptables"}))
	}
	c := d.c
	d.p.Linef("%-9s %-26s kube-apiserver + etcd on %s (ready in %s)", "fabric", c.FabricNS, framework.APIServerURL(), round(up))
	for i, n := range c.Nodes {
		d.p.Linef("%-9s %-26s %s, pods %s, %s; kproxy pid %d", n.Name, n.NS, n.IP, n.PodCIDR, n.Zone, d.kps[i].Process.Pid())
	}
	for _, cl := range c.Clients {
		d.p.Linef("%-9s %-26s %s, outside the cluster: reaches node IPs only", cl.Name, cl.NS, cl.IP)
	}
	d.p.Linef("kproxy serving on both nodes %s later; logs under %s", round(time.Since(start)), c.WorkDir)
	d.clean.record()
}

// addPods starts n echo-server pods "<prefix>-1".."<prefix>-n", spread
// over the nodes, and remembers them by name.
func (d *demo) addPods(prefix string, n int) []*framework.Pod {
	pods := d.c.AddPods(d.t, prefix, n)
	for _, p := range pods {
		d.pods[p.Name] = p
	}
	return pods
}

// describePod names a pod and its node: "web-1 on node-1".
func (d *demo) describePod(name string) string {
	if p := d.pods[name]; p != nil {
		return fmt.Sprintf("%s on %s", name, p.Node.Name)
	}
	return name
}

// describeIP says whose address a pod saw as its client, and so whether
// the traffic was masqueraded.
func (d *demo) describeIP(s string) string {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	for _, n := range d.c.Nodes {
		switch ip {
		case n.IP:
			return n.Name + "'s IP: masqueraded"
		case n.PodGateway:
			return n.Name + "'s cbr0: masqueraded"
		}
	}
	for _, cl := range d.c.Clients {
		if ip == cl.IP {
			return cl.Name + " itself: not masqueraded"
		}
	}
	for _, p := range d.pods {
		if ip == p.IP {
			return p.Name + " itself: not masqueraded"
		}
	}
	return ""
}

// round rounds a duration for display.
func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
