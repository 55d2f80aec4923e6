package iptablese2e

import (
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// TestIPTablesNFT runs the suite on nodes that use iptables-nft, which kproxy
// picks when no variant holds a hint or more rules.
func TestIPTablesNFT(t *testing.T) { runSuite(t, variantNFT) }

// TestIPTablesLegacy runs the suite on nodes that kubelet marked as legacy
// (KUBE-IPTABLES-HINT in the legacy mangle table).
func TestIPTablesLegacy(t *testing.T) { runSuite(t, variantLegacy) }

// suite is one cluster, shared by the scenarios of one iptables variant: two
// nodes running kproxy, a caller pod on each node and two outside clients.
type suite struct {
	c       *framework.Cluster
	variant variant
	// kps[i] runs on c.Nodes[i]; callers[i] is a pod on c.Nodes[i].
	kps     []*framework.KProxy
	callers []*framework.Pod
	// before holds every node's iptables-save outputs from before kproxy
	// started, by node name then save command.
	before map[string]map[string]string
	// trio are the three endpoints of the affinity and balancing scenarios.
	trio []*framework.Pod
}

// scenario is one user-visible behaviour, run as a subtest.
type scenario struct {
	name string
	run  func(t *testing.T)
}

// runSuite builds the cluster for variant v, runs every scenario, checks
// that kproxy wrote its rules with v, and finally that --cleanup restores
// the rules from before kproxy started.
func runSuite(t *testing.T, v variant) {
	start := time.Now()
	c := framework.New(t, framework.Options{Nodes: 2, Clients: 2})
	s := &suite{c: c, variant: v, before: map[string]map[string]string{}}
	for _, n := range c.Nodes {
		if v == variantLegacy {
			markLegacy(t, c, n)
		}
		if n.Index == 1 {
			// node-1 has kubelet's firewall chain, as real nodes do;
			// node-2 is bare.
			addKubeletFirewall(t, c, n, v)
		}
		s.before[n.Name] = saveAll(t, c, n)
	}
	for _, n := range c.Nodes {
		s.kps = append(s.kps, c.StartKProxy(t, n, framework.KProxyOptions{Mode: "iptables"}))
		s.callers = append(s.callers, c.AddPod(t, framework.PodSpec{Name: "caller-" + n.Name, Node: n}))
	}
	for _, sc := range s.scenarios() {
		s.runScenario(t, sc)
	}
	t.Run("rules are in the "+string(v)+" variant", s.rulesInVariant)
	t.Run("--cleanup restores the rules from before kproxy", s.cleanup)
	t.Logf("suite for iptables-%s took %v", v, time.Since(start).Round(100*time.Millisecond))
}

// scenarios lists the traffic scenarios in the order they run; each makes
// its own Services (and pods, when it changes them).
func (s *suite) scenarios() []scenario {
	return []scenario{
		{"ClusterIP", s.clusterIP},
		{"NodePort from outside", s.nodePort},
		{"ExternalIP and LoadBalancer source ranges", s.loadBalancer},
		{"externalTrafficPolicy Local", s.externalLocal},
		{"session affinity ClientIP", s.affinity},
		{"balancing over 3 endpoints", s.balance},
		{"no endpoints refuses", s.noEndpoints},
		{"UDP client follows a replaced pod", s.udpReplace},
		{"hairpin", s.hairpin},
	}
}

// runScenario runs sc as a subtest and then checks that every kproxy synced
// since the scenario began and no iptables-restore failed.
func (s *suite) runScenario(t *testing.T, sc scenario) {
	t.Run(sc.name, func(t *testing.T) {
		before := s.lastSyncs(t)
		sc.run(t)
		s.checkSyncs(t, before)
	})
}
