package userspace

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/iptables"
)

// inNetns is set in the environment of the test binary re-run inside a network
// namespace of its own.
const inNetns = "KPROXY_USERSPACE_NETNS"

// The real-kernel test's addresses, all inside the namespace it creates.
const (
	kNodeIP   = "192.168.77.10"
	kPodGW    = "10.0.1.1"
	kPodIP    = "10.0.1.100"
	kWebIP    = "172.30.0.10"
	kDNSIP    = "172.30.0.53"
	kNodePort = 30080
)

// TestKernel runs the portals on a real kernel: the test binary re-runs itself
// under "unshare -n", in a network namespace of its own that disappears with
// it, so the host's rules are never touched. There it creates a node address
// on a dummy link and a "pod" in a second namespace behind a veth pair, and
// checks that TCP and UDP reach the endpoints through the cluster IP and the
// node port, from the node and from the pod. It needs root and iptables.
func TestKernel(t *testing.T) {
	if os.Getenv(inNetns) == "" {
		reexecInNetns(t)
		return
	}
	ctx := context.Background()
	pod := startPod(t)
	setUpNode(t)
	variant, err := iptables.Detect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Family: v1.IPv4Protocol}) // detects the variant itself
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.cfg.dialTimeouts = []time.Duration{5 * time.Second} // a busy machine may be slow to schedule the dialer
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	a, bb := startServer(t, "127.0.0.1", "a"), startServer(t, "127.0.0.2", "b")
	ua := startUDPServer(t, "127.0.0.1", "a")
	webSvc := newService(web, kWebIP, []netip.AddrPort{a.addr, bb.addr})
	webSvc.NodePort = kNodePort
	dnsSvc := newService(dns, kDNSIP, []netip.AddrPort{ua.addr})
	dnsSvc.Port = 53
	snap := snapshot(webSvc, dnsSvc)
	snap.Node = proxy.Node{Name: "node-a", IPs: []netip.Addr{netip.MustParseAddr(kNodeIP)}}
	if err := b.Sync(ctx, snap, full); err != nil {
		t.Fatal(err)
	}

	for _, target := range []string{kWebIP + ":80", kNodeIP + ":" + strconv.Itoa(kNodePort), "127.0.0.1:" + strconv.Itoa(kNodePort)} {
		var got []string
		for range 2 {
			got = append(got, greeting(t, target))
		}
		if strings.Join(got, ",") != "a,b" {
			t.Errorf("from the node to %s: reached %v, want a then b", target, got)
		}
	}
	if got := udpAsk(t, kDNSIP+":53", "q"); got != "a:q" {
		t.Errorf("UDP from the node: reply %q, want a:q", got)
	}
	for _, target := range []string{kWebIP + ":80", kNodeIP + ":" + strconv.Itoa(kNodePort)} {
		if got := pod.run(t, "exec 3<>/dev/tcp/"+strings.Replace(target, ":", "/", 1)+"; head -n1 <&3"); got != "a" && got != "b" {
			t.Errorf("from the pod to %s: got %q, want a greeting", target, got)
		}
	}
	if got := pod.run(t, "exec 3<>/dev/udp/"+kDNSIP+"/53; printf q >&3; timeout 2 head -c 3 <&3"); got != "a:q" {
		t.Errorf("UDP from the pod: reply %q, want a:q (the reply must come from the cluster IP)", got)
	}

	if err := b.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []iptables.Table{iptables.TableNAT, iptables.TableFilter} {
		out, err := iptables.New(iptables.IPv4, variant).Save(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "KUBE-") {
			t.Errorf("left in %s after cleanup:\n%s", table, out)
		}
	}
}

// reexecInNetns runs TestKernel again in a new network namespace, or skips.
func reexecInNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("real-kernel test")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	for _, tool := range []string{"unshare", "nsenter", "ip", "bash", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	cmd := exec.Command("unshare", "-n", os.Args[0], "-test.run=^TestKernel$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inNetns+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the test failed in its namespace: %v", err)
	}
}

// sh runs a command line and fails the test on error.
func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// setUpNode gives the namespace loopback, a node address (on lo: dummy links
// may be missing) and a default route through the pod link, so that the node
// can route to cluster IPs.
func setUpNode(t *testing.T) {
	sh(t, "ip", "link", "set", "lo", "up")
	sh(t, "ip", "addr", "add", kNodeIP+"/32", "dev", "lo")
	sh(t, "ip", "route", "add", "default", "dev", "kpus-host")
}

// pod is a process holding a second network namespace, linked to the first by
// a veth pair.
type pod struct{ pid string }

// startPod creates the pod namespace behind kpus-host (10.0.1.1) and kpus-pod
// (10.0.1.100). The namespace goes when its process is killed.
func startPod(t *testing.T) *pod {
	cmd := exec.Command("unshare", "-n", "sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &pod{pid: strconv.Itoa(cmd.Process.Pid)}
	// Wait until unshare has moved the sleeper to its namespace.
	self, _ := os.Readlink("/proc/self/ns/net")
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns, _ := os.Readlink("/proc/" + p.pid + "/ns/net")
		if ns != "" && ns != self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pod namespace did not appear")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sh(t, "ip", "link", "add", "name", "kpus-host", "type", "veth", "peer", "name", "kpus-pod", "netns", p.pid)
	sh(t, "ip", "addr", "add", kPodGW+"/24", "dev", "kpus-host")
	sh(t, "ip", "link", "set", "kpus-host", "up")
	p.run(t, "ip link set lo up && ip addr add "+kPodIP+"/24 dev kpus-pod && ip link set kpus-pod up && ip route add default via "+kPodGW)
	return p
}

// run runs a bash command line in the pod and returns its output.
func (p *pod) run(t *testing.T, script string) string {
	t.Helper()
	return sh(t, "nsenter", "-t", p.pid, "-n", "timeout", "10", "bash", "-c", script)
}

// greeting connects to target and returns the endpoint's greeting.
func greeting(t *testing.T, target string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("greeting from %s: %v", target, err)
	}
	return strings.TrimSpace(line)
}

// udpAsk sends msg to target from a connected socket and returns the reply.
func udpAsk(t *testing.T, target, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no UDP reply from %s: %v", target, err)
	}
	return string(buf[:n])
}
