package framework

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// hostCommands print the host namespace's network state; the framework must
// leave every one of them unchanged.
var hostCommands = [][]string{
	{"ip", "-4", "route", "show", "table", "all"},
	{"ip", "-6", "route", "show", "table", "all"},
	{"ip", "link"},
	{"ip", "addr"},
	{"iptables-save"},
	{"ip6tables-save"},
}

// counters matches iptables-save's packet/byte counters; comment lines
// (with the generation date) are dropped.
var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// hostSnapshot returns the output of hostCommands with counters masked.
func hostSnapshot(t *testing.T) map[string]string {
	t.Helper()
	snap := map[string]string{}
	for _, argv := range hostCommands {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(argv, " "), err)
		}
		var keep []string
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "#") {
				keep = append(keep, counters.ReplaceAllString(line, "[0:0]"))
			}
		}
		snap[strings.Join(argv, " ")] = strings.Join(keep, "\n")
	}
	return snap
}

// TestIsolation builds and tears down a 2-node cluster with pods, a
// service and traffic, and checks that the host namespace's routes, links,
// addresses and iptables rules are byte-equal before and after, and that no
// namespace of the cluster is left.
func TestIsolation(t *testing.T) {
	RequireE2E(t)
	before := hostSnapshot(t)
	var prefix string
	t.Run("cluster", func(t *testing.T) {
		start := time.Now()
		c := New(t, Options{Nodes: 2})
		pods := c.AddPods(t, "web", 3)
		t.Logf("MEASURE: 2-node cluster with control plane and 3 pods ready in %v", time.Since(start).Round(time.Millisecond))
		prefix = c.Prefix
		svc := c.CreateService(t, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
				{Name: "tcp", Port: 80, TargetPort: intstr.FromInt32(EchoTCPPort), Protocol: corev1.ProtocolTCP},
			}},
		})
		c.SetEndpoints(t, svc, ReadyEndpoints(pods...)...)
		checkReachable(t, c, pods)
	})
	after := hostSnapshot(t)
	for cmd, want := range before {
		if got := after[cmd]; got != want {
			t.Errorf("host `%s` changed:\nbefore:\n%s\nafter:\n%s", cmd, want, got)
		}
	}
	names, err := listNetns()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if prefix != "" && strings.HasPrefix(n, prefix) {
			t.Errorf("namespace %s left behind", n)
		}
	}
}

// checkReachable makes every pod answer the first one, so the cluster did
// carry traffic before it was torn down.
func checkReachable(t *testing.T, c *Cluster, pods []*Pod) {
	t.Helper()
	for _, p := range pods {
		status, body, err := c.HTTPGet(pods[0], fmt.Sprintf("http://%s:%d/", p.IP, EchoHTTPPort))
		if err != nil || status != 200 || !strings.HasPrefix(body, p.Name+" ") {
			t.Errorf("GET %s from %s: %d %q %v", p.Name, pods[0].Name, status, body, err)
		}
	}
}
