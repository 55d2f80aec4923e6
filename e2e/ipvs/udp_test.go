package ipvse2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The UDP scenario: one service, two pods answering UDP, one client.
const (
	udpService   = "udp"
	udpClusterIP = "10.96.100.30"
	udpPort      = 53
	udpTarget    = 5353
	// udpSwitchLimit bounds how long the client goes unanswered while its
	// pod is replaced.
	udpSwitchLimit = 2 * time.Second
)

// udpPods are the UDP service's endpoints, one at a time.
var udpPods = []pod{{"upod-1", "10.244.0.21"}, {"upod-2", "10.244.0.22"}}

// udpVIP is the service's address as ipvsadm names it.
func udpVIP() string { return fmt.Sprintf("%s:%d", udpClusterIP, udpPort) }

// udpRS is a pod's real server.
func udpRS(p pod) string { return fmt.Sprintf("%s:%d", p.ip, udpTarget) }

// udpObjects renders the Service and its EndpointSlice with the one endpoint ep.
func udpObjects(ep pod) (*corev1.Service, *discoveryv1.EndpointSlice) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: udpService, Namespace: namespace},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: udpClusterIP,
			Ports: []corev1.ServicePort{{
				Protocol: corev1.ProtocolUDP, Port: udpPort, TargetPort: intstr.FromInt32(udpTarget),
			}},
		},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      udpService + "-e2e",
			Namespace: namespace,
			Labels:    map[string]string{discoveryv1.LabelServiceName: udpService, discoveryv1.LabelManagedBy: sliceLabel},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(""), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(int32(udpTarget))}},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{ep.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			NodeName:   ptr.To(nodeName),
		}},
	}
	return svc, slice
}

// udpScript starts the two UDP pods and the client, then, each time with a
// new client (kpguest udpwatch: one source port, a datagram every 50 ms):
//
//  1. kproxy: the host replaces upod-1 by upod-2 in the EndpointSlice
//     ("udp kproxy");
//  2. kproxy stopped, the same change back by hand with ipvsadm alone
//     ("udp ipvsadm");
//  3. the same again with net/ipv4/vs/expire_nodest_conn=0 ("udp noexpire").
//
// Each reports the client's first answer from the new pod, "<ms> <pod>
// <gap ms>"; when none comes within 5 s, "stuck", and then the same after
// deleting the service's conntrack entries (conntrack -D, "+conntrack").
func udpScript() *script {
	s := newScript(false)
	c, from, to := guestClients[0], udpPods[0], udpPods[1]
	s.define(fmt.Sprintf(`start_watch() { ip netns exec %s kpguest udpwatch %s 60 >"$1" 2>&1 & }`, c.name, udpVIP()))
	s.define(`answered_by() { grep -q " $2 " "$1"; }`)
	s.define(`within() {
	limit=$(($1 * 5))
	shift
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -lt "$limit" ] || return 1
		sleep 0.2
	done
}`)
	s.define(fmt.Sprintf(`watch_switch() {
	if within 5 answered_by "$2" "$3"; then
		result "udp $1 $(sed -n "/ $3 /{p;q}" "$2")"
		return
	fi
	result "udp $1 stuck"
	section "udp-$1-conntrack" conntrack -L -p udp
	section "udp-$1-ipvs" ipvsadm -Lnc
	conntrack -D -p udp --orig-dst %s >/dev/null 2>&1
	if within 5 answered_by "$2" "$3"; then
		result "udp $1+conntrack $(sed -n "/ $3 /{p;q}" "$2")"
	else
		result "udp $1+conntrack stuck"
	fi
}`, udpClusterIP))
	for _, p := range udpPods {
		s.line("add_ns %s %s %s", p.name, p.ip, podGateway)
		s.line(`ip netns exec %s kpecho serve --name %s --tcp "" --udp :%d --http "" >/tmp/pod-%s.log 2>&1 &`, p.name, p.name, udpTarget, p.name)
		s.line(`wait_until 30 "pod %s serving UDP" kpecho client --udp %s --timeout 2s`, p.name, udpRS(p))
	}
	s.line("add_ns %s %s %s", c.name, c.ip, clientGateway)
	byHand := func(name, file string, old, now pod) {
		s.line("start_watch %s", file)
		s.line(`wait_until 30 "the UDP client reaching %s" answered_by %s %s`, old.name, file, old.name)
		s.line(`ipvsadm -d -u %s -r %s && ipvsadm -a -u %s -r %s -m -w 1`, udpVIP(), udpRS(old), udpVIP(), udpRS(now))
		s.line(`watch_switch %s %s %s`, name, file, now.name)
	}
	s.line("start_kproxy rr")
	s.line(`wait_until 60 "UDP virtual server with %s" sh -c "ipvsadm -Ln -u %s | grep -q -- '-> %s '"`, from.name, udpVIP(), udpRS(from))
	s.line("start_watch /tmp/udpwatch-kproxy")
	s.line(`wait_until 30 "the UDP client reaching %s" answered_by /tmp/udpwatch-kproxy %s`, from.name, from.name)
	s.line(`result "udp ready"`)
	s.line(`wait_until 60 "the UDP client reaching %s" answered_by /tmp/udpwatch-kproxy %s`, to.name, to.name)
	s.line(`result "udp kproxy $(sed -n "/ %s /{p;q}" /tmp/udpwatch-kproxy)"`, to.name)
	s.line("stop_kproxy")
	byHand("ipvsadm", "/tmp/udpwatch-ipvsadm", to, from)
	s.line("echo 0 >/proc/sys/net/ipv4/vs/expire_nodest_conn")
	byHand("noexpire", "/tmp/udpwatch-noexpire", from, to)
	s.line("echo 1 >/proc/sys/net/ipv4/vs/expire_nodest_conn")
	s.line(`result "done"`)
	return s
}

// TestIPVSStaleUDP checks that a UDP client sending from one port follows
// its service to a new pod: when kproxy replaces the pod's real server, the
// client goes unanswered for at most 2 s. It also shows what makes the
// client switch, with ipvsadm alone: with expire_nodest_conn=1 (kproxy's
// setting) the kernel expires the IPVS connection at the client's next
// datagram and drops its conntrack entry itself; with 0 the client stays
// stuck, and deleting the conntrack entries does not help (IPVS's own
// connection still points at the old pod).
func TestIPVSStaleUDP(t *testing.T) {
	e := getEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mustCreateUDP(t, e.cp.Kube)
	g := bootGuest(t, ctx, e, udpScript(), "", 5*time.Minute)
	g.await(ctx, "udp ready")
	t0 := time.Now()
	_, slice := udpObjects(udpPods[1])
	slices := e.cp.Kube.DiscoveryV1().EndpointSlices(namespace)
	cur, err := slices.Get(ctx, slice.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slice.ResourceVersion = cur.ResourceVersion
	if _, err := slices.Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	g.await(ctx, "udp kproxy")
	hostSeen := time.Since(t0)
	res, out := g.finish()

	gap, ok := udpGap(res, "udp kproxy")
	t.Logf("kproxy: host's EndpointSlice update → the guest reported the client answered by %s: %v; the client went unanswered for %v",
		udpPods[1].name, hostSeen.Round(time.Millisecond), gap)
	if !ok || gap > udpSwitchLimit {
		t.Errorf("the UDP client went unanswered for %v (reported %v) while kproxy replaced its pod, want ≤ %v", gap, ok, udpSwitchLimit)
	}
	for _, c := range []struct{ name, what string }{
		{"ipvsadm", "ipvsadm -d + -a alone, expire_nodest_conn=1"},
		{"noexpire", "ipvsadm -d + -a alone, expire_nodest_conn=0"},
	} {
		if gap, ok := udpGap(res, "udp "+c.name); ok {
			t.Logf("%s: the client switched, unanswered for %v", c.what, gap)
			continue
		}
		t.Logf("%s: the client stayed on the old pod for 5 s; conntrack then:\n%sIPVS connections:\n%s",
			c.what, section(out, "udp-"+c.name+"-conntrack"), section(out, "udp-"+c.name+"-ipvs"))
		if gap, ok := udpGap(res, "udp "+c.name+"+conntrack"); ok {
			t.Logf("%s, then conntrack -D: the client switched, unanswered for %v in all", c.what, gap)
		} else {
			t.Logf("%s, then conntrack -D: still on the old pod 5 s later", c.what)
		}
	}
}

// udpGap reads a result line "<prefix> <ms> <pod> <gap ms>" and returns the
// gap; ok is false for "stuck" or a missing line.
func udpGap(res results, prefix string) (time.Duration, bool) {
	line, _ := res.first(prefix)
	f := strings.Fields(line)
	if len(f) != 3 {
		return 0, false
	}
	ms, err := strconv.Atoi(f[2])
	return time.Duration(ms) * time.Millisecond, err == nil
}

// mustCreateUDP creates the Node, the UDP Service and its EndpointSlice
// (upod-1), and deletes them when the test ends.
func mustCreateUDP(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	if err := ensureNode(ctx, kube); err != nil {
		t.Fatalf("creating Node %s: %v", nodeName, err)
	}
	svc, slice := udpObjects(udpPods[0])
	t.Cleanup(func() {
		_ = kube.DiscoveryV1().EndpointSlices(namespace).Delete(context.Background(), slice.Name, metav1.DeleteOptions{})
		_ = kube.CoreV1().Services(namespace).Delete(context.Background(), svc.Name, metav1.DeleteOptions{})
	})
	if _, err := kube.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.DiscoveryV1().EndpointSlices(namespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
