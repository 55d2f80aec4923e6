package ipvsmode_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestRandomTransitions walks random changes of services, endpoints and node
// addresses through the real proxy.Table, syncing each step's hint into one
// kernel, and checks after every step that it holds exactly what a full sync of the
// same snapshot gives on a fresh kernel: the partial syncs leave nothing stale and
// miss nothing.
func TestRandomTransitions(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		family := v1.IPv4Protocol
		if seed%2 == 0 {
			family = v1.IPv6Protocol
		}
		t.Run(fmt.Sprintf("seed%d-%s", seed, family), func(t *testing.T) {
			w := newWorld(t, family, seed)
			for step := 0; step < 300; step++ {
				what := w.change()
				snap, changes := w.pb.Snapshot(family)
				changes.Full = changes.Full || w.rnd.IntN(20) == 0
				if err := w.b.Sync(context.Background(), snap, changes); err != nil {
					t.Fatalf("step %d (%s): %v", step, what, err)
				}
				fresh := newKernelWith(t, family, w.k.sysctl, w.nodeIPs...)
				fb := newBackend(t, fresh, w.edit)
				mustSync(t, fb, snap, full)
				if got, want := w.k.state(), fresh.state(); got != want {
					t.Fatalf("step %d (%s): partial syncs differ from a fresh full sync:\n%s", step, what, diff(got, want))
				}
			}
		})
	}
}

// world is a node changing at random.
type world struct {
	t      *testing.T
	rnd    *rand.Rand
	a      packetflow.Addresses
	family v1.IPFamily
	pb     *packetflow.Builder
	k      *kernel
	b      interface {
		Sync(context.Context, *snapshot, changes) error
	}
	edit    optsEdit
	nodeIPs []netip.Addr
	protos  map[string]v1.Protocol // each service's protocol
}

func newWorld(t *testing.T, family v1.IPFamily, seed uint64) *world {
	a := packetflow.Addresses{Family: family}
	w := &world{t: t, rnd: rand.New(rand.NewPCG(seed, 7)), a: a, family: family,
		pb: packetflow.NewBuilder(node).Node("", a.String("192.168.0.10")), nodeIPs: []netip.Addr{a.IP("192.168.0.10")},
		edit:   func(o *ipvsOptions) { o.ClusterCIDRs = []netip.Prefix{a.Prefix("10.0.0.0/16")} },
		protos: map[string]v1.Protocol{}}
	w.k = newKernel(t, family, w.nodeIPs...)
	w.b = newBackend(t, w.k, w.edit)
	return w
}

// change makes one random change and describes it.
func (w *world) change() string {
	name := fmt.Sprintf("svc%d", w.rnd.IntN(6))
	switch n := w.rnd.IntN(10); {
	case n < 4:
		w.pb.Service(w.service(name))
		return "service " + name
	case n < 5:
		w.pb.DeleteService("ns", name)
		return "delete service " + name
	case n < 8:
		w.pb.Slice(w.slice(name))
		return "endpoints of " + name
	case n < 9:
		w.pb.DeleteSlice(packetflow.NewSlice("ns", name, name+"-1", w.family, "p", v1.ProtocolTCP, 80))
		return "delete endpoints of " + name
	}
	w.nodeIPs = []netip.Addr{w.a.IP("192.168.0.10")}
	if w.rnd.IntN(2) == 0 {
		w.nodeIPs = append(w.nodeIPs, w.a.IP("192.168.1.10"))
	}
	w.k.nl.AddLink("eth0", w.nodeIPs...)
	return fmt.Sprintf("node addresses %v", w.nodeIPs)
}

// service returns a random version of service name.
func (w *world) service(name string) *v1.Service {
	r := w.rnd
	protos := []v1.Protocol{v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP}
	proto := protos[r.IntN(3)]
	w.protos[name] = proto
	idx := name[len(name)-1] - '0'
	opts := []packetflow.ServiceOpt{packetflow.Port("p", proto, int32(80+r.IntN(2)), int32(30000+int(idx)*10+r.IntN(2)*r.IntN(5)))}
	if r.IntN(2) == 0 {
		opts[0] = packetflow.Port("p", proto, 80, 0)
	}
	if r.IntN(4) == 0 {
		opts = append(opts, packetflow.ExternalIPs(w.a.String(fmt.Sprintf("192.168.99.%d", 10+r.IntN(3)))))
	}
	if r.IntN(4) == 0 {
		ranges := []string{}
		if r.IntN(2) == 0 {
			ranges = append(ranges, w.a.Prefix("203.0.113.0/24").String())
		}
		if r.IntN(3) == 0 {
			ranges = append(ranges, w.a.Prefix("192.168.0.0/16").String())
		}
		opts = append(opts, packetflow.LoadBalancer([]string{w.a.String(fmt.Sprintf("5.6.7.%d", 8+r.IntN(3)))}, ranges...))
	}
	if r.IntN(3) == 0 {
		opts = append(opts, packetflow.ExternalLocal(int32(31000+int(idx))))
	}
	if r.IntN(4) == 0 {
		opts = append(opts, packetflow.InternalLocal())
	}
	if r.IntN(4) == 0 {
		opts = append(opts, packetflow.Affinity(int32(60+r.IntN(2)*60)))
	}
	return packetflow.NewService("ns", name, w.a.String(fmt.Sprintf("172.30.0.%d", 10+idx)), opts...)
}

// slice returns random endpoints for service name, on its current protocol.
func (w *world) slice(name string) *discoverySlice {
	r := w.rnd
	var eps []packetflow.Endpoint
	for i := range r.IntN(5) {
		e := packetflow.Endpoint{IP: w.a.String(fmt.Sprintf("10.0.%d.%d", 1+r.IntN(2), 1+i+r.IntN(3))), Node: packetflow.OtherNode}
		if e.IP == w.a.String(fmt.Sprintf("10.0.1.%d", 1+i)) || r.IntN(3) == 0 {
			e.Node = node
		}
		e.NotReady = r.IntN(6) == 0
		e.Terminating = !e.NotReady && r.IntN(6) == 0
		eps = append(eps, e)
	}
	proto, ok := w.protos[name]
	if !ok || r.IntN(5) == 0 {
		proto = []v1.Protocol{v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP}[r.IntN(3)]
	}
	return packetflow.NewSlice("ns", name, name+"-1", w.family, "p", proto, int32(8080+r.IntN(2)), eps...)
}
