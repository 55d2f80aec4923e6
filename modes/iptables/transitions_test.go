package iptablesmode

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/packetflow"
)

// TestRandomTransitions walks random sequences of service and endpoint additions,
// updates and deletions (and the odd node change) through the real proxy.Table,
// syncing each step partially into one fake. After every step that fake must hold
// exactly what a full sync of the same snapshot gives in a new fake.
func TestRandomTransitions(t *testing.T) {
	for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", family, seed), func(t *testing.T) {
				w := newWorld(family, seed)
				settings := packetflow.Settings{ClusterCIDR: w.a.Prefix("10.0.0.0/16")}
				fake := newFake(family)
				rec := &recorder{Restorer: fake}
				be := newTestBackend(t, family, rec, settings)
				snap, _ := w.b.Snapshot(family)
				mustSync(t, be, snap, full)
				for step := range 80 {
					what := w.step()
					snap, changes := w.b.Snapshot(family)
					before := rec.n
					mustSync(t, be, snap, changes)
					if !changes.Full && rec.n > before && strings.Contains(rec.last, ":KUBE-SERVICES ") {
						t.Fatalf("step %d (%s): partial sync flushed KUBE-SERVICES:\n%s", step, what, rec.last)
					}
					if got, want := fake.Dump(), freshDump(t, family, settings, snap); got != want {
						t.Fatalf("step %d (%s, full=%v): state differs from a full sync:\n%s\npayload:\n%s",
							step, what, changes.Full, diff(got, want), rec.last)
					}
				}
			})
		}
	}
}

// world makes random changes to a few services through a packetflow.Builder.
type world struct {
	rng    *rand.Rand
	a      packetflow.Addresses
	family v1.IPFamily
	b      *packetflow.Builder
	ports  map[int][]string // service index -> port names it has now
}

func newWorld(family v1.IPFamily, seed uint64) *world {
	a := packetflow.Addresses{Family: family}
	return &world{
		rng:    rand.New(rand.NewPCG(seed, 42)),
		a:      a,
		family: family,
		b:      packetflow.NewBuilder(packetflow.ThisNode).Node("", a.String("192.168.0.10")),
		ports:  map[int][]string{},
	}
}

// step makes one random change and says what it was.
func (w *world) step() string {
	i := w.rng.IntN(6)
	switch op := w.rng.IntN(20); {
	case op < 7:
		w.service(i)
		return fmt.Sprintf("service %d", i)
	case op < 15:
		port := "a"
		if w.rng.IntN(2) == 0 {
			port = "b"
		}
		w.slice(i, port)
		return fmt.Sprintf("slice %d/%s", i, port)
	case op < 17:
		w.b.DeleteService("ns", svcName(i))
		delete(w.ports, i)
		return fmt.Sprintf("delete service %d", i)
	case op < 19:
		w.b.DeleteSlice(packetflow.NewSlice("ns", svcName(i), svcName(i)+"-a", w.family, "a", v1.ProtocolTCP, 1))
		return fmt.Sprintf("delete slice %d/a", i)
	default:
		ip := w.a.String(fmt.Sprintf("192.168.0.%d", 10+w.rng.IntN(3)))
		w.b.Node("", ip)
		return "node address " + ip
	}
}

func svcName(i int) string { return fmt.Sprintf("svc%d", i) }

// service adds or replaces service i with random features.
func (w *world) service(i int) {
	r := w.rng
	var opts []packetflow.ServiceOpt
	names := []string{"a"}
	if r.IntN(3) == 0 {
		names = append(names, "b")
	}
	external := false
	for k, name := range names {
		proto := v1.ProtocolTCP
		if r.IntN(3) == 0 {
			proto = v1.ProtocolUDP
		}
		nodePort := int32(0)
		if r.IntN(2) == 0 {
			nodePort, external = int32(30000+10*i+k), true
		}
		opts = append(opts, packetflow.Port(name, proto, int32(80+k), nodePort))
	}
	if r.IntN(4) == 0 {
		opts = append(opts, packetflow.ExternalIPs(w.a.String(fmt.Sprintf("192.168.99.%d", i))))
		external = true
	}
	if r.IntN(3) == 0 {
		var ranges []string
		switch r.IntN(4) {
		case 0:
			ranges = []string{w.a.Prefix("203.0.113.0/24").String()}
		case 1:
			ranges = []string{w.a.Prefix("192.168.0.0/16").String()} // holds the node
		case 2:
			ranges = []string{w.other("10.9.0.0/16")} // only the other family: no one
		}
		opts = append(opts, packetflow.LoadBalancer([]string{w.a.String(fmt.Sprintf("5.6.7.%d", i))}, ranges...))
		external = true
	}
	if external && r.IntN(2) == 0 {
		opts = append(opts, packetflow.ExternalLocal(int32(31000+i)))
	}
	if r.IntN(4) == 0 {
		opts = append(opts, packetflow.InternalLocal())
	}
	if r.IntN(4) == 0 {
		opts = append(opts, packetflow.Affinity(int32(60+r.IntN(3))))
	}
	w.b.Service(packetflow.NewService("ns", svcName(i), w.a.String(fmt.Sprintf("172.30.1.%d", i)), opts...))
	w.ports[i] = names
}

// other returns a prefix of the other family.
func (w *world) other(v4 string) string {
	if w.family == v1.IPv6Protocol {
		return v4
	}
	return packetflow.Addresses{Family: v1.IPv6Protocol}.Prefix(v4).String()
}

// slice replaces the endpoints of one port of service i with 0-4 random ones.
func (w *world) slice(i int, port string) {
	r := w.rng
	proto := v1.ProtocolTCP
	if r.IntN(3) == 0 {
		proto = v1.ProtocolUDP
	}
	var eps []packetflow.Endpoint
	for k := range r.IntN(5) {
		node, subnet := packetflow.OtherNode, 2
		if r.IntN(3) == 0 {
			node, subnet = packetflow.ThisNode, 1
		}
		eps = append(eps, packetflow.Endpoint{
			IP:          w.a.String(fmt.Sprintf("10.0.%d.%d", subnet, 10*i+k)),
			Node:        node,
			NotReady:    r.IntN(6) == 0,
			Terminating: r.IntN(6) == 0,
		})
	}
	w.b.Slice(packetflow.NewSlice("ns", svcName(i), svcName(i)+"-"+port, w.family, port, proto, int32(8080+r.IntN(2)), eps...))
}
