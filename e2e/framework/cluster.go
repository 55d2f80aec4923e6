package framework

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options shape a cluster.
type Options struct {
	// Nodes is the number of nodes (default 1, at most MaxNodes).
	Nodes int
	// Clients is the number of outside clients on the fabric (default 1).
	Clients int
	// Zones gives node i the zone Zones[(i-1) % len(Zones)]
	// (default "zone-a", "zone-b").
	Zones []string
	// NoControlPlane builds the network only: no kcluster, no Node objects,
	// no Services. For tests of the framework itself.
	NoControlPlane bool
}

// Cluster is one simulated cluster. Create it with New; its teardown runs
// when the test ends.
type Cluster struct {
	// Prefix starts the name of every namespace of this cluster.
	Prefix string
	// WorkDir holds logs, kubeconfigs and the apiserver's data.
	WorkDir string
	// FabricNS is the fabric namespace, where the apiserver runs.
	FabricNS string
	// Nodes are the simulated nodes, Nodes[0] being node 1.
	Nodes []*Node
	// Clients are namespaces outside the cluster, on the fabric.
	Clients []*Client
	// Kubeconfig is the admin kubeconfig (server https://10.200.0.1:6443,
	// reachable only from inside the fabric).
	Kubeconfig string
	// RESTConfig is the admin config, with a dialer that connects from
	// inside the fabric namespace.
	RESTConfig *rest.Config
	// Kube is the admin clientset built on RESTConfig.
	Kube kubernetes.Interface

	t           testing.TB
	echoBin     string
	kclusterBin string
	teardownMu  sync.Mutex // one teardown at a time: test end or a signal
	tornDown    bool
	stopSignals func()
	mu          sync.Mutex
	procs       []*Process
	pods        map[string]*Pod
	members     map[string][]Endpoint // "<ns>/<service>" → endpoints, see SetEndpoints
}

// Node is a simulated node: a namespace on the fabric with a pod bridge.
type Node struct {
	// Name is the Node object's name: "node-<index>".
	Name string
	// Index numbers nodes from 1.
	Index int
	// NS is the node's network namespace.
	NS string
	// IP is its fabric address and InternalIP.
	IP netip.Addr
	// PodCIDR is the node's pod range, PodGateway its cbr0 address.
	PodCIDR    netip.Prefix
	PodGateway netip.Addr
	// Zone is the topology.kubernetes.io/zone label.
	Zone string
	// Dir holds the node's kubeconfig and logs.
	Dir string

	nextPod int // last pod address used, guarded by Cluster.mu
}

// Client is a namespace outside the cluster: on the fabric, reaching node
// IPs, with no route to pods or services.
type Client struct {
	// Name is "client-<index>".
	Name string
	// NS is its network namespace.
	NS string
	// IP is its fabric address.
	IP netip.Addr
}

// NetNS returns the node's namespace.
func (n *Node) NetNS() string { return n.NS }

// NetNS returns the client's namespace.
func (c *Client) NetNS() string { return c.NS }

// New builds a cluster and registers its teardown with t.Cleanup. It skips
// the test unless e2e tests are enabled (RequireE2E) and fails it when
// anything cannot be built.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	RequireE2E(t)
	o = o.withDefaults()
	if o.Nodes > MaxNodes || o.Clients > MaxClients {
		t.Fatalf("e2e: at most %d nodes and %d clients", MaxNodes, MaxClients)
	}
	if removed, err := Sweep(); err != nil {
		t.Logf("e2e: sweeping leftovers: %v", err)
	} else if len(removed) > 0 {
		t.Logf("e2e: removed leftovers of earlier runs: %v", removed)
	}
	start := time.Now()
	c := &Cluster{Prefix: newRunPrefix(), t: t, pods: map[string]*Pod{}, members: map[string][]Endpoint{}}
	c.FabricNS = c.Prefix + "fabric"
	c.echoBin = Binary(t, BinEcho)
	if !o.NoControlPlane {
		c.kclusterBin = Binary(t, BinKCluster)
	}
	c.stopSignals = c.watchSignals()
	t.Cleanup(c.teardown)
	dir, err := os.MkdirTemp("", c.Prefix)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	c.WorkDir = dir
	c.plan(o)
	if err := c.build(o); err != nil {
		t.Fatalf("e2e: building cluster %s: %v", c.Prefix, err)
	}
	t.Logf("e2e: cluster %s up in %v: %d nodes, %d clients, work dir %s",
		c.Prefix, time.Since(start).Round(time.Millisecond), len(c.Nodes), len(c.Clients), c.WorkDir)
	return c
}

// withDefaults fills zero options.
func (o Options) withDefaults() Options {
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	if o.Clients <= 0 {
		o.Clients = 1
	}
	if len(o.Zones) == 0 {
		o.Zones = []string{"zone-a", "zone-b"}
	}
	return o
}

// plan names every node and client.
func (c *Cluster) plan(o Options) {
	for i := 1; i <= o.Nodes; i++ {
		name := fmt.Sprintf("node-%d", i)
		c.Nodes = append(c.Nodes, &Node{
			Name: name, Index: i, NS: c.Prefix + name, IP: NodeIP(i),
			PodCIDR: PodCIDR(i), PodGateway: PodGateway(i), Zone: o.Zones[(i-1)%len(o.Zones)],
			Dir: filepath.Join(c.WorkDir, name), nextPod: 1,
		})
	}
	for j := 1; j <= o.Clients; j++ {
		name := fmt.Sprintf("client-%d", j)
		c.Clients = append(c.Clients, &Client{Name: name, NS: c.Prefix + name, IP: ClientIP(j)})
	}
}

// build creates the network, starts the control plane while the nodes are
// wired, and registers the nodes with the apiserver.
func (c *Cluster) build(o Options) error {
	if err := c.buildFabric(); err != nil {
		return err
	}
	var cp *Process
	if !o.NoControlPlane {
		var err error
		if cp, err = c.startControlPlane(); err != nil {
			return err
		}
	}
	if err := c.buildNodes(); err != nil {
		return err
	}
	if err := c.buildClients(); err != nil {
		return err
	}
	if cp == nil {
		return nil
	}
	if err := c.connectControlPlane(cp); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.registerNodes(ctx)
}

// track remembers a started process for teardown.
func (c *Cluster) track(p *Process) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.procs = append(c.procs, p)
}
