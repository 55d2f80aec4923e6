package ipvsmode_test

import (
	"net/netip"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	ipvsmode "github.com/kproxy/kproxy/modes/ipvs"
	"github.com/kproxy/kproxy/proxy/packetflow"
)

const dumpHeader = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
`

// web is a service with one local and one remote endpoint, and extra options.
func web(opts ...packetflow.ServiceOpt) func(b *packetflow.Builder) {
	return func(b *packetflow.Builder) {
		opts = append([]packetflow.ServiceOpt{packetflow.Port("http", v1.ProtocolTCP, 80, 0)}, opts...)
		b.Service(packetflow.NewService("ns", "web", "172.30.0.10", opts...))
		b.Slice(packetflow.NewSlice("ns", "web", "web-1", v1.IPv4Protocol, "http", v1.ProtocolTCP, 8080,
			eps([]string{"10.0.1.1"}, "10.0.2.1")...))
	}
}

// nodePort makes a service a NodePort one on port 30080.
func nodePort(s *v1.Service) {
	if s.Spec.Type == v1.ServiceTypeClusterIP {
		s.Spec.Type = v1.ServiceTypeNodePort
	}
	s.Spec.Ports[0].NodePort = 30080
}

// syncOnce programs what build feeds into a fresh kernel whose eth0 holds
// 192.168.0.10 and 192.168.1.10.
func syncOnce(t *testing.T, edit func(*ipvsmode.Options), build func(b *packetflow.Builder)) *kernel {
	t.Helper()
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"), ip("192.168.1.10"))
	b := newBackend(t, k, edit)
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	build(pb)
	snap, _ := pb.Snapshot(v1.IPv4Protocol)
	mustSync(t, b, snap, full)
	return k
}

// TestSchedulers: every virtual server gets the chosen scheduler; mh also hashes the
// source port, as upstream sets it.
func TestSchedulers(t *testing.T) {
	for _, sched := range ipvsmode.Schedulers() {
		t.Run(sched, func(t *testing.T) {
			k := syncOnce(t, func(o *ipvsmode.Options) { o.Scheduler = sched }, web())
			line := "TCP  172.30.0.10:80 " + sched
			if sched == "mh" {
				line += " mh-port"
			}
			want := dumpHeader + line + `
  -> 10.0.1.1:8080                Masq    1      0          0
  -> 10.0.2.1:8080                Masq    1      0          0
`
			if got := k.ipvs.Dump(); got != want {
				t.Errorf("dump:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestVirtualServers checks the virtual and real servers and the addresses of
// kube-ipvs0 each kind of service gets.
func TestVirtualServers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*ipvsmode.Options)
		build func(b *packetflow.Builder)
		want  string // virtual server lines, "->" lines listing real servers
		bound string
	}{
		{name: "cluster IP", build: web(),
			want:  "TCP 172.30.0.10:80 rr -> 10.0.1.1:8080 10.0.2.1:8080",
			bound: "172.30.0.10"},
		{name: "session affinity", build: web(packetflow.Affinity(60)),
			want:  "TCP 172.30.0.10:80 rr persistent 60 -> 10.0.1.1:8080 10.0.2.1:8080",
			bound: "172.30.0.10"},
		{name: "node port on every node address", build: web(nodePort),
			want: `TCP 172.30.0.10:80 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.0.10:30080 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.1.10:30080 rr -> 10.0.1.1:8080 10.0.2.1:8080`,
			bound: "172.30.0.10"},
		{name: "node port addresses",
			edit: func(o *ipvsmode.Options) {
				o.NodePortAddresses = []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}
			},
			build: web(nodePort),
			want: `TCP 172.30.0.10:80 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.1.10:30080 rr -> 10.0.1.1:8080 10.0.2.1:8080`,
			bound: "172.30.0.10"},
		{name: "external and load-balancer IPs, one of them the node's",
			build: web(packetflow.ExternalIPs("192.168.99.11", "192.168.1.10"), packetflow.LoadBalancer([]string{"5.6.7.8"}), nodePort),
			want: `TCP 5.6.7.8:80 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 172.30.0.10:80 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.0.10:30080 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.1.10:80 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.1.10:30080 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.99.11:80 rr -> 10.0.1.1:8080 10.0.2.1:8080`,
			bound: "5.6.7.8 172.30.0.10 192.168.99.11"},
		{name: "external policy Local",
			build: web(packetflow.LoadBalancer([]string{"5.6.7.8"}), packetflow.ExternalLocal(31000), nodePort),
			want: `TCP 5.6.7.8:80 rr -> 10.0.1.1:8080
TCP 172.30.0.10:80 rr -> 10.0.1.1:8080 10.0.2.1:8080
TCP 192.168.0.10:30080 rr -> 10.0.1.1:8080
TCP 192.168.1.10:30080 rr -> 10.0.1.1:8080`,
			bound: "5.6.7.8 172.30.0.10"},
		{name: "internal policy Local", build: web(packetflow.InternalLocal()),
			want:  "TCP 172.30.0.10:80 rr -> 10.0.1.1:8080",
			bound: "172.30.0.10"},
		{name: "UDP and SCTP", build: func(b *packetflow.Builder) {
			b.Service(packetflow.NewService("ns", "dns", "172.30.0.53", packetflow.Port("dns", v1.ProtocolUDP, 53, 0),
				packetflow.Port("sig", v1.ProtocolSCTP, 9, 0)))
			b.Slice(packetflow.NewSlice("ns", "dns", "dns-1", v1.IPv4Protocol, "dns", v1.ProtocolUDP, 5353, eps(nil, "10.0.2.53")...))
			b.Slice(packetflow.NewSlice("ns", "dns", "dns-2", v1.IPv4Protocol, "sig", v1.ProtocolSCTP, 9, eps(nil, "10.0.2.53")...))
		},
			want: `SCTP 172.30.0.53:9 rr -> 10.0.2.53:9
UDP 172.30.0.53:53 rr -> 10.0.2.53:5353`,
			bound: "172.30.0.53"},
		{name: "terminating endpoints serve only when none is ready", build: func(b *packetflow.Builder) {
			b.Service(packetflow.NewService("ns", "web", "172.30.0.10", packetflow.Port("http", v1.ProtocolTCP, 80, 0)))
			b.Slice(packetflow.NewSlice("ns", "web", "web-1", v1.IPv4Protocol, "http", v1.ProtocolTCP, 8080,
				packetflow.Endpoint{IP: "10.0.2.1", Node: "node-b", Terminating: true},
				packetflow.Endpoint{IP: "10.0.2.2", Node: "node-b", NotReady: true}))
		},
			want:  "TCP 172.30.0.10:80 rr -> 10.0.2.1:8080",
			bound: "172.30.0.10"},
		{name: "no endpoints", build: func(b *packetflow.Builder) {
			b.Service(packetflow.NewService("ns", "web", "172.30.0.10", packetflow.Port("http", v1.ProtocolTCP, 80, 0)))
		},
			want:  "TCP 172.30.0.10:80 rr ->",
			bound: "172.30.0.10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := syncOnce(t, tc.edit, tc.build)
			if got := compact(k.ipvs.Dump()); got != tc.want {
				t.Errorf("virtual servers:\n%s\nwant:\n%s", got, tc.want)
			}
			if got := addrs(k.nl.LinkAddresses(ipvsmode.DummyDevice)); got != tc.bound {
				t.Errorf("kube-ipvs0 holds %q, want %q", got, tc.bound)
			}
		})
	}
}

// compact folds an ipvsadm dump into one line per virtual server:
// "TCP 10.0.0.1:80 rr -> 10.1.0.1:80 10.1.0.2:80", weights other than 1 as "@0".
func compact(dump string) string {
	var lines []string
	for _, l := range strings.Split(dump, "\n")[3:] {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case f[0] == "->":
			rs := f[1]
			if f[3] != "1" {
				rs += "@" + f[3]
			}
			lines[len(lines)-1] += " " + rs
		default:
			lines = append(lines, strings.Join(f, " ")+" ->")
		}
	}
	return strings.Join(lines, "\n")
}

func addrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

// TestAddressesFollowServices: kube-ipvs0 holds exactly the addresses in use; an
// external IP that becomes one of the node's own is unbound.
func TestAddressesFollowServices(t *testing.T) {
	k := newKernel(t, v1.IPv4Protocol, ip("192.168.0.10"))
	b := newBackend(t, k, nil)
	pb := packetflow.NewBuilder(node).Node("", "192.168.0.10")
	web(packetflow.ExternalIPs("192.168.99.11"))(pb)
	pb.Service(packetflow.NewService("ns", "api", "172.30.0.11", packetflow.Port("http", v1.ProtocolTCP, 80, 0),
		packetflow.Port("https", v1.ProtocolTCP, 443, 0), packetflow.ExternalIPs("192.168.99.11")))
	sync := func(want string) {
		t.Helper()
		snap, changes := pb.Snapshot(v1.IPv4Protocol)
		mustSync(t, b, snap, changes)
		if got := addrs(k.nl.LinkAddresses(ipvsmode.DummyDevice)); got != want {
			t.Errorf("kube-ipvs0 holds %q, want %q", got, want)
		}
	}
	sync("172.30.0.10 172.30.0.11 192.168.99.11")
	pb.DeleteService("ns", "web")
	sync("172.30.0.11 192.168.99.11") // still used by api
	k.nl.AddLink("eth0", ip("192.168.0.10"), ip("192.168.99.11"))
	sync("172.30.0.11")
	pb.DeleteService("ns", "api")
	sync("")
}
