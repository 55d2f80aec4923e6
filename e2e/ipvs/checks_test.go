package ipvse2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// checker asserts on the results of the scenarios script.
type checker struct {
	t   *testing.T
	res results
	out string
}

// probe returns the tally of the probe with this label; a missing or
// failed probe fails t.
func (c checker) probe(t *testing.T, label string) traffic.Result {
	t.Helper()
	raw, ok := c.res.first("probe " + label)
	if !ok {
		t.Fatalf("guest did not report probe %s", label)
	}
	var r traffic.Result
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("probe %s: %v in %q", label, err, raw)
	}
	if r.Failed() > 0 || r.Answered() != r.Sent {
		t.Errorf("probe %s: %s", label, r.String())
	}
	return r
}

// counts returns r's answers per pod, sorted, e.g. "pod-1=2 pod-2=2 pod-3=2".
func counts(r traffic.Result) string {
	var parts []string
	for _, p := range sortedKeys(r.Pods) {
		parts = append(parts, fmt.Sprintf("%s=%d", p, r.Pods[p]))
	}
	return strings.Join(parts, " ")
}

// evenly is the tally of 2 answers by each pod.
const evenly = "pod-1=2 pod-2=2 pod-3=2"

func (c checker) roundRobin(t *testing.T) {
	if got := counts(c.probe(t, "rr/client-1")); got != evenly {
		t.Errorf("6 connections to the rr service were answered by %s, want %s", got, evenly)
	}
}

func (c checker) sourceHash(t *testing.T) {
	for _, cl := range guestClients {
		r := c.probe(t, "sh/"+cl.name)
		if len(r.Pods) != 1 {
			t.Errorf("12 connections from %s to the sh service were answered by %s, want one pod", cl.name, counts(r))
		}
	}
}

func (c checker) destinationHash(t *testing.T) {
	all := map[string]int{}
	for _, cl := range guestClients {
		for p, n := range c.probe(t, "dh/"+cl.name).Pods {
			all[p] += n
		}
	}
	if len(all) != 1 {
		t.Errorf("connections from both clients to the dh service were answered by %v, want one pod", all)
	}
}

func (c checker) leastConnection(t *testing.T) {
	held1, _ := c.res.first("held lc-1")
	held2, _ := c.res.first("held lc-2")
	if held1 == "" || held1 == held2 {
		t.Fatalf("the two held connections went to %q and %q, want two different pods", held1, held2)
	}
	r := c.probe(t, "lc/short")
	if len(r.Pods) != 1 || r.Pods[held1]+r.Pods[held2] != 0 {
		t.Errorf("with connections held open on %s and %s, 4 new ones went to %s, want all on the third pod\n%s",
			held1, held2, counts(r), section(c.out, "ipvsadm-lc"))
	}
}

func (c checker) affinity(t *testing.T) {
	for _, cl := range guestClients {
		if r := c.probe(t, "affinity/"+cl.name); len(r.Pods) != 1 {
			t.Errorf("10 connections from %s to the ClientIP service were answered by %s, want one pod", cl.name, counts(r))
		}
	}
	if s := section(c.out, "ipvsadm-affinity"); !strings.Contains(s, "persistent 10800") {
		t.Errorf("the ClientIP service's virtual server is not persistent for 10800 s:\n%s", s)
	}
}

func (c checker) nodePort(t *testing.T) {
	if got := counts(c.probe(t, "nodeport/client-1")); got != evenly {
		t.Errorf("6 connections to %s were answered by %s, want %s", nodePortAddr(), got, evenly)
	}
}

func (c checker) graceful(t *testing.T, gone string) {
	line, _ := c.res.first("graceful-realserver")
	// "-> 10.244.0.12:8080  Masq  0  1  0": weight 0, one active connection.
	if f := strings.Fields(line); len(f) != 6 || f[3] != "0" || f[4] != "1" {
		t.Errorf("removed endpoint's real server while its connection is open = %q, want weight 0 and 1 active connection\n%s",
			line, section(c.out, "ipvsadm-graceful"))
	}
	if echo, _ := c.res.first("echo graceful"); echo != "ping" {
		t.Errorf("open connection to the removed endpoint %s echoed %q after the removal, want \"ping\"", gone, echo)
	}
	if r := c.probe(t, "graceful/after"); r.Pods[gone] != 0 || len(r.Pods) != 2 {
		t.Errorf("new connections after %s was removed were answered by %s, want the two others only", gone, counts(r))
	}
}

func (c checker) ipsets(t *testing.T) {
	s := section(c.out, "ipset")
	for _, want := range []struct{ set, member string }{
		{"KUBE-CLUSTER-IP", svcRR.clusterIP + ",tcp:80"},
		{"KUBE-CLUSTER-IP", svcNodePort.clusterIP + ",tcp:80"},
		{"KUBE-NODE-PORT-TCP", fmt.Sprint(svcNodePort.nodePort)},
	} {
		if !slices.Contains(setMembers(s, want.set), want.member) {
			t.Errorf("ipset %s lacks %s:\n%s", want.set, want.member, s)
		}
	}
}

// setMembers returns the members of one set in `ipset list` output.
func setMembers(list, name string) []string {
	var members []string
	in, inMembers := false, false
	for _, l := range strings.Split(list, "\n") {
		switch {
		case strings.HasPrefix(l, "Name: "):
			in, inMembers = strings.TrimPrefix(l, "Name: ") == name, false
		case in && l == "Members:":
			inMembers = true
		case in && inMembers && strings.TrimSpace(l) != "":
			members = append(members, strings.Fields(l)[0])
		}
	}
	return members
}
