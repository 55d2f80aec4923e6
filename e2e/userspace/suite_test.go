package userspacee2e

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// Flags every kproxy of the suite runs with.
const (
	// portBase and portSize are --proxy-port-range: listeners must take
	// their ports from it.
	portBase = 36000
	portSize = 100
	// udpTimeout is --udp-timeout: how long an idle UDP session lives.
	udpTimeout = 500 * time.Millisecond
)

// TestUserspace runs every scenario on one cluster: two nodes running kproxy
// in userspace mode, a caller pod on each node and one outside client.
func TestUserspace(t *testing.T) {
	start := time.Now()
	c := framework.New(t, framework.Options{Nodes: 2, Clients: 1})
	s := &suite{c: c, client: c.Clients[0]}
	for _, n := range c.Nodes {
		s.kps = append(s.kps, c.StartKProxy(t, n, framework.KProxyOptions{Mode: "userspace", Args: []string{
			"--proxy-port-range", portRange(),
			"--udp-timeout", udpTimeout.String(),
		}}))
		s.callers = append(s.callers, c.AddPod(t, framework.PodSpec{Name: "caller-" + n.Name, Node: n}))
	}
	for _, sc := range s.scenarios() {
		s.runScenario(t, sc)
	}
	t.Logf("userspace suite took %v", time.Since(start).Round(100*time.Millisecond))
}

// suite is the cluster the scenarios share.
type suite struct {
	c *framework.Cluster
	// kps[i] runs on c.Nodes[i]; callers[i] is a pod on c.Nodes[i].
	kps     []*framework.KProxy
	callers []*framework.Pod
	// client is outside the cluster: it reaches node IPs only.
	client *framework.Client
	// trio are the three endpoints of the balancing scenarios.
	trio []*framework.Pod
}

// scenario is one user-visible behaviour, run as a subtest.
type scenario struct {
	name string
	run  func(t *testing.T)
}

// scenarios lists the scenarios in the order they run. Each makes its own
// Services; the load scenario comes last, so that its descriptor and
// goroutine baseline already counts every other Service's listeners.
func (s *suite) scenarios() []scenario {
	return []scenario{
		{"ClusterIP", s.clusterIP},
		{"NodePort", s.nodePort},
		{"portals use --proxy-port-range", s.portals},
		{"UDP through the cluster IP", s.udp},
		{"exact round robin", s.roundRobin},
		{"session affinity ClientIP", s.affinity},
		{"killed endpoint gets no new connections", s.killedEndpoint},
		{"1000 concurrent connections, nothing leaked", s.load},
	}
}

// runScenario runs sc as a subtest and then checks that every kproxy still
// runs: a crash would otherwise show up as timeouts in the next scenario.
func (s *suite) runScenario(t *testing.T, sc scenario) {
	t.Run(sc.name, func(t *testing.T) {
		sc.run(t)
		for _, k := range s.kps {
			if k.Process.Exited() {
				t.Fatalf("%s exited during the scenario (%v); log tail:\n%s", k.Process.Name, k.Process.ExitErr(), k.Process.LogTail(40))
			}
		}
	})
}
