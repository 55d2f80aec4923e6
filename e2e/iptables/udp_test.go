package iptablese2e

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// udpSwitchLimit is how soon a UDP client must reach the pod that replaced
// the only endpoint: kproxy must delete the conntrack entries that still
// point at the old pod.
const udpSwitchLimit = 2 * time.Second

// udpAskTimeout bounds one datagram's round trip in udpClient.ask; it is
// also the resolution of the switch time.
const udpAskTimeout = 50 * time.Millisecond

// udpReplace: a client keeps sending datagrams to a UDP Service from one
// source port, as DNS resolvers and streaming clients do, while the only
// endpoint is replaced by a new pod. Its flow must reach the new pod within
// 2 s: without kproxy deleting the flow's conntrack entry, every datagram
// would keep going to the old pod's address until the entry expires.
func (s *suite) udpReplace(t *testing.T) {
	old := s.c.AddPod(t, framework.PodSpec{Name: "udp-old", Node: s.c.Nodes[1]})
	repl := s.c.AddPod(t, framework.PodSpec{Name: "udp-new", Node: s.c.Nodes[1]})
	svc := s.serve(t, udpService("udp"), old)
	addr := clusterAddr(svc)
	caller := s.callers[0]
	s.waitFor(t, caller, traffic.Probe{Protocol: traffic.UDP, Addr: addr}, "answered", func(r traffic.Result) bool {
		return r.Pods[old.Name] == r.Sent
	})

	cl := dialUDP(t, caller, addr)
	defer cl.conn.Close()
	if pod := cl.waitFor(old.Name, 5*time.Second); pod != old.Name {
		t.Fatalf("the fixed-port client never reached %s (last answer %q)", old.Name, pod)
	}
	start := time.Now()
	switched := make(chan string, 1)
	go func() { switched <- cl.waitFor(repl.Name, 10*time.Second) }()
	s.c.SetEndpoints(t, svc, framework.ReadyEndpoints(repl)...)
	s.c.DeletePod(t, old)
	pod := <-switched
	took := time.Since(start)
	if pod != repl.Name {
		t.Fatalf("datagrams from one source port still not answered by %s %v after the replacement (last answer %q)", repl.Name, took, pod)
	}
	took = cl.switchedAt.Sub(start)
	t.Logf("UDP client switched to %s %v after the endpoint was replaced", repl.Name, took.Round(10*time.Millisecond))
	if took > udpSwitchLimit {
		t.Errorf("UDP client took %v to reach the new pod, want < %v", took.Round(10*time.Millisecond), udpSwitchLimit)
	}
	answered := 0
	for range 10 {
		switch got := cl.ask(); got {
		case repl.Name:
			answered++
		case "":
		default:
			t.Errorf("after the switch an answer came from %q, want %s", got, repl.Name)
		}
	}
	if answered < 5 {
		t.Errorf("after the switch only %d of 10 datagrams were answered", answered)
	}
}

// udpService is a ClusterIP Service named name with one UDP port 80 to the
// echo server.
func udpService(name string) *corev1.Service {
	svc := tcpService(name, nil)
	svc.Spec.Ports[0] = corev1.ServicePort{Name: "udp", Port: servicePort, TargetPort: intstr.FromInt32(framework.EchoUDPPort), Protocol: corev1.ProtocolUDP}
	return svc
}

// udpClient is a connected UDP socket opened in a pod: all its datagrams
// leave from one source port.
type udpClient struct {
	conn net.Conn
	// switchedAt is when waitFor got its pod's answer.
	switchedAt time.Time
}

// dialUDP opens a udpClient to addr inside from's namespace.
func dialUDP(t *testing.T, from framework.NetNSer, addr netip.AddrPort) *udpClient {
	t.Helper()
	conn, err := netns.DialContext(from.NetNS())(context.Background(), "udp", addr.String())
	if err != nil {
		t.Fatalf("UDP socket in %s: %v", from.NetNS(), err)
	}
	return &udpClient{conn: conn}
}

// ask sends one datagram and returns the pod that answered within
// udpAskTimeout, or "" (no answer, or an ICMP error).
func (c *udpClient) ask() string {
	if _, err := c.conn.Write([]byte("ping\n")); err != nil {
		time.Sleep(udpAskTimeout) // an ICMP error reported on write: keep the pace
		return ""
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(udpAskTimeout))
	buf := make([]byte, 512)
	n, err := c.conn.Read(buf)
	if err != nil {
		if !isTimeout(err) {
			time.Sleep(udpAskTimeout)
		}
		return ""
	}
	pod, _, err := traffic.ParseReply(string(buf[:n]))
	if err != nil {
		return ""
	}
	return pod
}

// waitFor asks until pod answers (noting the time in switchedAt) or timeout
// passes, and returns the last pod that answered.
func (c *udpClient) waitFor(pod string, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if got := c.ask(); got != "" {
			last = got
			if got == pod {
				c.switchedAt = time.Now()
				return got
			}
		}
	}
	return last
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
