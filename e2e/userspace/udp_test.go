package userspacee2e

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/netns"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// udp: a UDP Service with an endpoint on each node answers datagrams sent
// to its cluster IP from pods and nodes and to its node port from outside,
// each reply coming back to the sender's socket (a connected socket drops
// replies from another address). A client sending from one source port
// keeps its endpoint while its session lives; once idle for --udp-timeout
// the session ends and the next datagram opens a new one, which round robin
// sends to the other endpoint.
func (s *suite) udp(t *testing.T) {
	pods := s.podPerNode(t, "udp")
	svc := s.serve(t, service("udp", nodePortType, corev1.ProtocolUDP), pods...)
	n1, n2 := s.c.Nodes[0], s.c.Nodes[1]
	cluster := clusterAddr(svc, portUDP)
	for _, src := range []struct {
		source
		addr netip.AddrPort
	}{
		{source{"from a pod on node-1", s.callers[0], n1}, cluster},
		{source{"from a pod on node-2", s.callers[1], n2}, cluster},
		{source{"from node-1 itself", n1, n1}, cluster},
		{source{"from outside to node-2's node port", s.client, n2}, nodePortAddr(n2, svc, portUDP)},
	} {
		t.Run(src.name, func(t *testing.T) {
			s.waitAnswered(t, src.from, traffic.UDP, src.addr)
			r := s.probe(t, src.from, traffic.UDP, src.addr, 30)
			if r.Answered() != 30 || len(r.Pods) != len(pods) {
				t.Errorf("want 30 replies from all %d endpoints, got %s", len(pods), r.String())
			}
			checkProxiedBy(t, r, src.proxy)
		})
	}
	t.Run("a session keeps its endpoint until idle", func(t *testing.T) {
		s.udpSession(t, svc, cluster)
	})
}

// udpSession sends datagrams from one source port of the node-1 caller:
// all reach one endpoint over one session; after --udp-timeout of silence
// the session is gone and the next datagram reaches the other endpoint.
func (s *suite) udpSession(t *testing.T, svc *corev1.Service, addr netip.AddrPort) {
	k := s.kps[0]
	waitIdle(t, k, svc, portUDP) // the probes' sessions ended: node-1 relays none
	cl := dialUDP(t, s.callers[0], addr)
	first := map[string]int{}
	for range 10 {
		first[cl.ask(t)]++
	}
	if len(first) != 1 || first[""] != 0 {
		t.Fatalf("10 datagrams from one source port: want all answered by one endpoint, got %v", first)
	}
	silent := time.Now()
	if n := portMetric(t, k, metricActive, svc, portUDP); n != 1 {
		t.Errorf("%s{service_port=%q} = %v during the exchange, want 1 session", metricActive, portLabel(svc, portUDP), n)
	}
	waitIdle(t, k, svc, portUDP)
	took := time.Since(silent)
	t.Logf("the session ended %v after the last reply (--udp-timeout %v)", took.Round(10*time.Millisecond), udpTimeout)
	// kproxy notes the reply's time just after sending it: allow for that.
	if took < udpTimeout-20*time.Millisecond {
		t.Errorf("the session ended %v after the last reply, before --udp-timeout %v", took, udpTimeout)
	}
	var was string
	for p := range first {
		was = p
	}
	if now := cl.ask(t); now == was || now == "" {
		t.Errorf("after the session expired the next datagram was answered by %q, want the other endpoint than %s (round robin)", now, was)
	}
}

// udpClient is a connected UDP socket opened in a namespace: all its
// datagrams leave from one source port.
type udpClient struct {
	conn net.Conn
}

// dialUDP opens a udpClient to addr inside from's namespace, closed when the
// test ends.
func dialUDP(t *testing.T, from framework.NetNSer, addr netip.AddrPort) *udpClient {
	t.Helper()
	conn, err := netns.DialContext(from.NetNS())(context.Background(), "udp", addr.String())
	if err != nil {
		t.Fatalf("UDP socket in %s: %v", from.NetNS(), err)
	}
	t.Cleanup(func() { conn.Close() })
	return &udpClient{conn: conn}
}

// ask sends one datagram and returns the pod that answered within
// connTimeout, or "" when none did.
func (c *udpClient) ask(t *testing.T) string {
	t.Helper()
	if _, err := c.conn.Write([]byte("ping\n")); err != nil {
		t.Logf("UDP send: %v", err)
		return ""
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(connTimeout))
	buf := make([]byte, 512)
	n, err := c.conn.Read(buf)
	if err != nil {
		t.Logf("UDP reply: %v", err)
		return ""
	}
	pod, _, err := traffic.ParseReply(string(buf[:n]))
	if err != nil {
		t.Logf("UDP reply: %v", err)
		return ""
	}
	return pod
}
