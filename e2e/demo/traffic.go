package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// connections is the number of connections each flow makes.
const connections = 30

// flow is one batch of connections the demo sends and what the answers
// must show.
type flow struct {
	svc  *service
	from framework.NetNSer
	// who describes the sender and the destination, for the header.
	who  string
	addr netip.AddrPort
	// parallel is the number of connections in flight; 1 for the affinity
	// Service, whose first connection must set the affinity for the rest.
	parallel int
	// check returns what the answers prove, or why they are wrong.
	check func(traffic.Result) (string, error)
}

// flows lists the traffic of section 3.
func (d *demo) flows() []flow {
	web, api, cart := d.svcs[0], d.svcs[1], d.svcs[2]
	caller1, caller2 := d.pods["caller-1"], d.pods["caller-2"]
	client := d.c.Clients[0]
	fl := []flow{{
		svc: web, from: caller2, addr: web.addr(), parallel: 8, check: everyPodAnswers(web.pods),
		who: fmt.Sprintf("from pod caller-2 (on node-2) to %s", web.addr()),
	}}
	for _, n := range d.c.Nodes {
		addr := netip.AddrPortFrom(n.IP, nodePort)
		fl = append(fl, flow{
			svc: api, from: client, addr: addr, parallel: 8, check: everyPodAnswers(api.pods),
			who: fmt.Sprintf("from %s (outside the cluster) to %s's %s", client.Name, n.Name, addr),
		})
	}
	for _, caller := range []*framework.Pod{caller1, caller2} {
		fl = append(fl, flow{
			svc: cart, from: caller, addr: cart.addr(), parallel: 1, check: onePodAnswers,
			who: fmt.Sprintf("from pod %s (on %s) to %s, one after another", caller.Name, caller.Node.Name, cart.addr()),
		})
	}
	return fl
}

// waitAnswering waits until every flow's destination answers a few
// connections (the Services are in kproxy's state, and the rules follow)
// and reports whether they all did within rulesTimeout.
func (d *demo) waitAnswering() bool {
	deadline := time.Now().Add(rulesTimeout)
	for _, f := range d.flows() {
		for {
			r := d.c.Probe(d.t, f.from, traffic.Probe{Protocol: traffic.TCP, Addr: f.addr, Count: 3, Parallel: 1, Timeout: 300 * time.Millisecond})
			if r.Answered() == r.Sent {
				break
			}
			if time.Now().After(deadline) {
				// Section 3 shows and fails what does not answer.
				return false
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return true
}

// sendTraffic sends every flow's connections, prints who answered and
// fails the demo when a flow's answers are wrong.
func (d *demo) sendTraffic() {
	d.p.Section(3, steps, fmt.Sprintf("Traffic: %d TCP connections per line, and the pods that answered", connections))
	for _, f := range d.flows() {
		r := d.c.Probe(d.t, f.from, traffic.Probe{Protocol: traffic.TCP, Addr: f.addr, Count: connections, Parallel: f.parallel})
		d.p.Linef("")
		d.p.Linef("%s (%s) %s", f.svc.obj.Name, f.svc.label(), f.who)
		d.p.Block("      ", strings.Join(histogram(answerRows(r, d.describePod)), "\n"))
		d.p.Linef("    client address the pods saw: %s", sourcesLine(r, d.describeIP))
		verdict, err := f.check(r)
		if err != nil {
			d.p.Linef("    FAIL: %v", err)
			d.t.Fail()
			continue
		}
		d.p.Linef("    ok: %s", verdict)
	}
}

// everyPodAnswers wants every connection answered and every pod among the
// answers.
func everyPodAnswers(pods []*framework.Pod) func(traffic.Result) (string, error) {
	return func(r traffic.Result) (string, error) {
		if err := allAnswered(r); err != nil {
			return "", err
		}
		var silent []string
		for _, p := range pods {
			if r.Pods[p.Name] == 0 {
				silent = append(silent, p.Name)
			}
		}
		if len(silent) > 0 {
			return "", fmt.Errorf("no answer from %s", strings.Join(silent, ", "))
		}
		return fmt.Sprintf("%d/%d answered, spread over %s", r.Answered(), r.Sent, allOf(len(pods), "pods")), nil
	}
}

// onePodAnswers wants every connection answered by the same pod.
func onePodAnswers(r traffic.Result) (string, error) {
	if err := allAnswered(r); err != nil {
		return "", err
	}
	if names := r.PodNames(); len(names) != 1 {
		return "", fmt.Errorf("answered by %d pods (%s); session affinity wants one", len(names), strings.Join(names, ", "))
	}
	return fmt.Sprintf("all %d answered by %s: the affinity holds", r.Sent, r.PodNames()[0]), nil
}

// allAnswered wants an answer to every attempt.
func allAnswered(r traffic.Result) error {
	if r.Sent == 0 {
		return fmt.Errorf("nothing sent")
	}
	if f := r.Failed(); f > 0 {
		return fmt.Errorf("%d of %d connections got no answer", f, r.Sent)
	}
	return nil
}

// allOf says "both pods" for two, "all 3 pods" for more.
func allOf(n int, things string) string {
	if n == 2 {
		return "both " + things
	}
	return fmt.Sprintf("all %d %s", n, things)
}
