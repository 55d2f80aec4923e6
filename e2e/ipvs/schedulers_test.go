package ipvse2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The scenario services, one per behaviour, so that each one's virtual
// server has seen no traffic before its scenario (rr's position and lc's
// connection counts are per virtual server).
var (
	svcRR       = svcSpec{name: "rr", clusterIP: "10.96.100.10"}
	svcAffinity = svcSpec{name: "affinity", clusterIP: "10.96.100.11", affinity: true}
	svcNodePort = svcSpec{name: "nodeport", clusterIP: "10.96.100.12", nodePort: 30080}
	svcGraceful = svcSpec{name: "graceful", clusterIP: "10.96.100.13"}
	svcSH       = svcSpec{name: "sh", clusterIP: "10.96.100.14"}
	svcDH       = svcSpec{name: "dh", clusterIP: "10.96.100.15"}
	svcLC       = svcSpec{name: "lc", clusterIP: "10.96.100.16"}
)

// scenarioServices returns the scenario services, each backed by every pod.
func scenarioServices() []svcSpec {
	specs := []svcSpec{svcRR, svcAffinity, svcNodePort, svcGraceful, svcSH, svcDH, svcLC}
	for i := range specs {
		specs[i].endpoints = podIPs(guestPods)
	}
	return specs
}

// nodePortAddr is the node port on the guest's node IP.
func nodePortAddr() string { return fmt.Sprintf("%s:%d", nodeIP, svcNodePort.nodePort) }

// schedulersScript runs kproxy four times, with the sh, dh, lc and rr
// schedulers, and sends traffic for the scenarios of each. Before the
// graceful termination scenario it prints "held graceful <pod>" and waits
// for the host to remove that pod from the EndpointSlice.
func schedulersScript() *script {
	s := newScript(true)
	s.define(podIPFunc())
	for _, sc := range []struct {
		sched string
		svc   svcSpec
		body  func(*script)
	}{
		{"sh", svcSH, shBody},
		{"dh", svcDH, dhBody},
		{"lc", svcLC, lcBody},
		{"rr", svcRR, rrBody},
	} {
		s.line(`result "phase %s"`, sc.sched)
		s.line("start_kproxy %s", sc.sched)
		s.line(`wait_until 60 "%s in /debug/state" state_has "TCP %s"`, sc.svc.name, sc.svc.vip())
		s.line("wait_vs %s %s 3", sc.svc.vip(), sc.sched)
		sc.body(s)
		s.line("stop_kproxy")
	}
	s.line(`result "done"`)
	return s
}

// shBody: one source address always lands on the same endpoint.
func shBody(s *script) {
	for _, c := range guestClients {
		s.line("probe sh/%s %s %s 12", c.name, c.name, svcSH.vip())
	}
	s.line("section ipvsadm-sh ipvsadm -Ln -t %s", svcSH.vip())
}

// dhBody: one destination always lands on the same endpoint, whoever sends.
func dhBody(s *script) {
	for _, c := range guestClients {
		s.line("probe dh/%s %s %s 12", c.name, c.name, svcDH.vip())
	}
	s.line("section ipvsadm-dh ipvsadm -Ln -t %s", svcDH.vip())
}

// lcBody: two connections held open take two endpoints, then every new
// short connection goes to the third, the one with the fewest.
func lcBody(s *script) {
	s.line("hold lc-1 client-1 %s", svcLC.vip())
	s.line("hold lc-2 client-1 %s", svcLC.vip())
	s.line("probe lc/short client-1 %s 4", svcLC.vip())
	s.line("section ipvsadm-lc ipvsadm -Ln -t %s", svcLC.vip())
	s.line("release lc-1")
	s.line("release lc-2")
}

// rrBody: round robin, ClientIP affinity, the node port, graceful
// termination, then the whole IPVS table and the ipsets for the log.
func rrBody(s *script) {
	s.line("wait_vs %s rr 3", svcAffinity.vip())
	s.line("wait_vs %s rr 3", nodePortAddr())
	s.line("wait_vs %s rr 3", svcGraceful.vip())
	s.line("probe rr/client-1 client-1 %s 6", svcRR.vip())
	for _, c := range guestClients {
		s.line("probe affinity/%s %s %s 10", c.name, c.name, svcAffinity.vip())
	}
	s.line("section ipvsadm-affinity ipvsadm -Ln -t %s", svcAffinity.vip())
	s.line("probe nodeport/client-1 client-1 %s 6", nodePortAddr())
	s.line("hold graceful client-1 %s", svcGraceful.vip())
	// The host now removes the held pod from the EndpointSlice.
	s.line(`gone=$(pod_ip "$(held_pod graceful)"):%d`, targetPort)
	s.line(`wait_until 60 "weight 0 for $gone" vs_weight %s "$gone" 0`, svcGraceful.vip())
	s.line("section ipvsadm-graceful ipvsadm -Ln -t %s", svcGraceful.vip())
	s.line(`result "graceful-realserver $(ipvsadm -Ln -t %s | grep -- "-> $gone ")"`, svcGraceful.vip())
	s.line("ping_held graceful")
	s.line("probe graceful/after client-2 %s 6", svcGraceful.vip())
	s.line("release graceful")
	s.line("section ipvsadm ipvsadm -Ln")
	s.line("section ipset ipset list")
}

// podIPFunc renders a shell function mapping pod names to addresses.
func podIPFunc() string {
	var b strings.Builder
	b.WriteString("pod_ip() {\n\tcase $1 in\n")
	for _, p := range guestPods {
		fmt.Fprintf(&b, "\t%s) echo %s ;;\n", p.name, p.ip)
	}
	b.WriteString("\t*) die \"unknown pod $1\" ;;\n\tesac\n}\n")
	return b.String()
}

// TestIPVSSchedulers boots one VM and runs kproxy in it with the sh, dh, lc
// and rr schedulers in turn: each scenario's traffic goes from client
// namespaces of the guest through the guest kernel's IPVS to pod
// namespaces, and the test checks who answered.
func TestIPVSSchedulers(t *testing.T) {
	e := getEnv(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	mustCreate(t, e.cp.Kube, scenarioServices())
	g := bootGuest(t, ctx, e, schedulersScript(), "512M", 4*time.Minute)

	gone := g.await(ctx, "held graceful")
	var keep []string
	for _, p := range guestPods {
		if p.name != gone {
			keep = append(keep, p.ip)
		}
	}
	if len(keep) != len(guestPods)-1 {
		t.Fatalf("held connection answered by %q, not one of the pods", gone)
	}
	if err := setEndpoints(ctx, e.cp.Kube, svcGraceful, keep); err != nil {
		t.Fatalf("removing %s from the EndpointSlice of %s: %v", gone, svcGraceful.name, err)
	}
	res, out := g.finish()
	for _, name := range []string{"ipvsadm", "ipset"} {
		t.Logf("guest's %s after the scenarios:\n%s", name, section(out, name))
	}
	c := checker{t: t, res: res, out: out}
	t.Run("rr spreads 6 connections 2/2/2", c.roundRobin)
	t.Run("sh keeps each client on one endpoint", c.sourceHash)
	t.Run("dh keeps the service on one endpoint", c.destinationHash)
	t.Run("lc picks the endpoint with the fewest connections", c.leastConnection)
	t.Run("ClientIP affinity sticks", c.affinity)
	t.Run("NodePort on the node IP", c.nodePort)
	t.Run("graceful termination keeps the open connection", func(t *testing.T) { c.graceful(t, gone) })
	t.Run("ipsets hold the services", c.ipsets)
	t.Logf("scenarios took %v", time.Since(start).Round(100*time.Millisecond))
}
