package framework

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// podReadyTimeout bounds the echo server's start.
const podReadyTimeout = 10 * time.Second

// PodSpec describes a pod to add.
type PodSpec struct {
	// Name is the pod's name, unique in the cluster; the echo server answers
	// with it.
	Name string
	// Node runs the pod (default: the first node).
	Node *Node
	// HostNetwork runs the echo server in the node's own namespace, on the
	// node's IP, like a hostNetwork pod.
	HostNetwork bool
	// Args are extra `echo serve` flags, e.g. "--tcp", ":8080,:9090".
	Args []string
}

// Pod is a running echo server in its own namespace on a node's pod bridge
// (or in the node's namespace for host-network pods).
type Pod struct {
	// Name is the pod's name; Namespace is "default".
	Name      string
	Namespace string
	// Node runs the pod.
	Node *Node
	// IP is the pod's address (the node's for host-network pods).
	IP netip.Addr
	// NS is the network namespace the echo server runs in.
	NS string
	// HostNetwork tells whether NS is the node's namespace.
	HostNetwork bool

	proc *Process
}

// NetNS returns the pod's namespace.
func (p *Pod) NetNS() string { return p.NS }

// Process returns the echo server process.
func (p *Pod) Process() *Process { return p.proc }

// AddPod creates the pod's namespace, wires it to its node's bridge and starts
// the echo server; it returns once the server listens.
func (c *Cluster) AddPod(t testing.TB, spec PodSpec) *Pod {
	t.Helper()
	p, err := c.addPod(spec)
	if err != nil {
		t.Fatalf("e2e: add pod %s: %v", spec.Name, err)
	}
	return p
}

// AddPods adds n pods named "<prefix>-1".."<prefix>-n", spread round-robin
// over the nodes.
func (c *Cluster) AddPods(t testing.TB, prefix string, n int) []*Pod {
	t.Helper()
	pods := make([]*Pod, 0, n)
	for i := range n {
		pods = append(pods, c.AddPod(t, PodSpec{Name: fmt.Sprintf("%s-%d", prefix, i+1), Node: c.Nodes[i%len(c.Nodes)]}))
	}
	return pods
}

// addPod is AddPod returning errors.
func (c *Cluster) addPod(spec PodSpec) (*Pod, error) {
	if spec.Node == nil {
		spec.Node = c.Nodes[0]
	}
	p := &Pod{Name: spec.Name, Namespace: "default", Node: spec.Node, HostNetwork: spec.HostNetwork}
	if err := c.claimPod(p); err != nil {
		return nil, err
	}
	if p.HostNetwork {
		p.NS, p.IP = p.Node.NS, p.Node.IP
	} else if err := c.wirePod(p); err != nil {
		return nil, err
	}
	args := append([]string{c.echoBin, "serve", "--name", p.Name}, spec.Args...)
	proc, err := startProcess("pod "+p.Name, p.NS, filepath.Join(p.Node.Dir, "pod-"+p.Name+".log"), "READY", nil, args...)
	if err != nil {
		return nil, err
	}
	c.track(proc)
	p.proc = proc
	if _, err := proc.WaitLine(podReadyTimeout); err != nil {
		return nil, err
	}
	return p, nil
}

// claimPod reserves the pod's name and, for pod-network pods, an address.
func (c *Cluster) claimPod(p *Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.Name == "" || c.pods[p.Name] != nil {
		return fmt.Errorf("pod name %q is empty or taken", p.Name)
	}
	if !p.HostNetwork {
		if p.Node.nextPod >= 254 {
			return fmt.Errorf("node %s has no pod address left", p.Node.Name)
		}
		p.Node.nextPod++
		p.IP = PodIP(p.Node.Index, p.Node.nextPod)
	}
	c.pods[p.Name] = p
	return nil
}

// wirePod creates the pod namespace with eth0 on the node's cbr0 (bridge
// port "vp<last address byte>") and a default route via the node's gateway.
// The pod's address is a /32 with the gateway on-link, so even traffic to a
// pod on the same bridge is routed by the node, as kube-proxy's rules need
// (a bridge-local shortcut would need br_netfilter on the host).
func (c *Cluster) wirePod(p *Pod) error {
	p.NS = c.Prefix + "pod-" + p.Name
	if err := addNetns(p.NS); err != nil {
		return err
	}
	port := fmt.Sprintf("vp%d", p.IP.As4()[3])
	if err := ipBatch(p.Node.NS,
		"link add "+port+" type veth peer name eth0 netns "+p.NS,
		"link set "+port+" master cbr0",
		"link set dev "+port+" type bridge_slave hairpin on",
		"link set "+port+" up",
	); err != nil {
		return err
	}
	gw := p.Node.PodGateway.String()
	return ipBatch(p.NS,
		"addr add "+withLen(p.IP, 32)+" dev eth0",
		"link set eth0 up",
		"route add "+gw+" dev eth0 scope link",
		"route add default via "+gw+" dev eth0",
	)
}

// RemovePod takes a pod away the way Kubernetes does: TerminatePod, grace,
// DeletePod.
func (c *Cluster) RemovePod(t testing.TB, p *Pod, grace time.Duration) {
	t.Helper()
	c.TerminatePod(t, p)
	time.Sleep(grace)
	c.DeletePod(t, p)
}

// TerminatePod marks the pod's endpoints terminating (still serving) in
// every service that has it; the echo server keeps answering.
func (c *Cluster) TerminatePod(t testing.TB, p *Pod) {
	t.Helper()
	if err := c.setPodState(p, StateTerminating); err != nil {
		t.Fatalf("e2e: terminate pod %s: %v", p.Name, err)
	}
}

// DeletePod stops the echo server, deletes the pod's namespace (its veth
// goes with it) and removes its endpoints from every service that has it.
func (c *Cluster) DeletePod(t testing.TB, p *Pod) {
	t.Helper()
	if err := p.proc.Stop(stopGraceWorkloads); err != nil {
		t.Fatalf("e2e: delete pod %s: %v", p.Name, err)
	}
	if !p.HostNetwork {
		if err := delNetns(p.NS); err != nil {
			t.Fatalf("e2e: delete pod %s: %v", p.Name, err)
		}
	}
	if err := c.dropPodEndpoints(p); err != nil {
		t.Fatalf("e2e: delete pod %s: %v", p.Name, err)
	}
	c.mu.Lock()
	delete(c.pods, p.Name)
	c.mu.Unlock()
}
