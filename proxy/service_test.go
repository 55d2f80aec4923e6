package proxy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func TestConvertService(t *testing.T) {
	tests := []struct {
		name         string
		svc          *v1.Service
		check        func(t *testing.T, ports PortsByFamily)
		wantPorts    map[v1.IPFamily]int
		wantProblems []string
	}{
		{
			name:      "cluster IP",
			svc:       newTestService("a", "10.96.0.10"),
			wantPorts: map[v1.IPFamily]int{v1.IPv4Protocol: 1},
			check: func(t *testing.T, p PortsByFamily) {
				sp := p[v1.IPv4Protocol][0]
				if sp.ClusterIP != netip.MustParseAddr("10.96.0.10") || sp.Port != 80 || sp.Name.String() != "ns/a:http" {
					t.Errorf("port = %+v", sp)
				}
			},
		},
		{name: "headless skipped", svc: newTestService("a", v1.ClusterIPNone)},
		{name: "ExternalName skipped", svc: newTestService("a", "", func(s *v1.Service) { s.Spec.Type = v1.ServiceTypeExternalName })},
		{
			name: "dual stack splits addresses by family",
			svc: newTestService("a", "10.96.0.10", func(s *v1.Service) {
				s.Spec.ClusterIPs = []string{"10.96.0.10", "fd00::10"}
				s.Spec.ExternalIPs = []string{"192.0.2.1", "2001:db8::1"}
			}),
			wantPorts: map[v1.IPFamily]int{v1.IPv4Protocol: 1, v1.IPv6Protocol: 1},
			check: func(t *testing.T, p PortsByFamily) {
				if got := p[v1.IPv6Protocol][0].ExternalIPs; len(got) != 1 || got[0] != netip.MustParseAddr("2001:db8::1") {
					t.Errorf("IPv6 external IPs = %v", got)
				}
				if got := p[v1.IPv4Protocol][0].ExternalIPs; len(got) != 1 || !got[0].Is4() {
					t.Errorf("IPv4 external IPs = %v", got)
				}
			},
		},
		{
			name: "unknown protocol and bad port left out, rest kept",
			svc: newTestService("a", "10.96.0.10", func(s *v1.Service) {
				s.Spec.Ports = append(s.Spec.Ports,
					v1.ServicePort{Name: "icmp", Port: 1, Protocol: "ICMP"},
					v1.ServicePort{Name: "big", Port: 70000, Protocol: v1.ProtocolTCP})
			}),
			wantPorts:    map[v1.IPFamily]int{v1.IPv4Protocol: 1},
			wantProblems: []string{`unknown protocol "ICMP"`, "70000 is out of range"},
		},
		{
			name:         "bad cluster IP gives nothing",
			svc:          newTestService("a", "10.96.0.999"),
			wantProblems: []string{`cluster IP "10.96.0.999" is not an IP`},
		},
		{
			name: "bad external IP left out",
			svc: newTestService("a", "10.96.0.10", func(s *v1.Service) {
				s.Spec.ExternalIPs = []string{"nope", "192.0.2.1"}
			}),
			wantPorts:    map[v1.IPFamily]int{v1.IPv4Protocol: 1},
			wantProblems: []string{`external IP "nope" is not an IP`},
		},
		{
			name: "load balancer: ingress IPs, source ranges of other family close the port",
			svc: newTestService("a", "10.96.0.10", func(s *v1.Service) {
				s.Spec.Type = v1.ServiceTypeLoadBalancer
				s.Spec.LoadBalancerSourceRanges = []string{"2001:db8::/64"}
				s.Status.LoadBalancer.Ingress = []v1.LoadBalancerIngress{{IP: "192.0.2.7"}, {IP: "192.0.2.8", IPMode: ptrTo(v1.LoadBalancerIPModeProxy)}}
			}),
			wantPorts: map[v1.IPFamily]int{v1.IPv4Protocol: 1},
			check: func(t *testing.T, p PortsByFamily) {
				sp := p[v1.IPv4Protocol][0]
				if len(sp.LoadBalancerIPs) != 1 || sp.LoadBalancerIPs[0] != netip.MustParseAddr("192.0.2.7") {
					t.Errorf("LB IPs = %v, want only the VIP-mode one", sp.LoadBalancerIPs)
				}
				if sp.SourceRanges == nil || len(sp.SourceRanges) != 0 {
					t.Errorf("source ranges = %#v, want empty non-nil (no one allowed)", sp.SourceRanges)
				}
			},
		},
		{
			name: "affinity, policies and health check port",
			svc: newTestService("a", "10.96.0.10", func(s *v1.Service) {
				s.Spec.Type = v1.ServiceTypeNodePort
				s.Spec.Ports[0].NodePort = 30080
				s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
				s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal
				s.Spec.InternalTrafficPolicy = ptrTo(v1.ServiceInternalTrafficPolicyLocal)
				s.Spec.HealthCheckNodePort = 32000
			}),
			wantPorts: map[v1.IPFamily]int{v1.IPv4Protocol: 1},
			check: func(t *testing.T, p PortsByFamily) {
				sp := p[v1.IPv4Protocol][0]
				if sp.AffinityTimeout != 3*time.Hour || !sp.Policy.ExternalLocal || !sp.Policy.InternalLocal ||
					sp.HealthCheckNodePort != 32000 || sp.NodePort != 30080 || !sp.ExternallyReachable() {
					t.Errorf("port = %+v", sp)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ports, problems := ConvertService(tt.svc)
			for _, family := range []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol} {
				if got := len(ports[family]); got != tt.wantPorts[family] {
					t.Errorf("%s ports = %d, want %d", family, got, tt.wantPorts[family])
				}
			}
			if len(problems) != len(tt.wantProblems) {
				t.Fatalf("problems = %q, want %q", problems, tt.wantProblems)
			}
			for i, want := range tt.wantProblems {
				if !strings.Contains(problems[i], want) {
					t.Errorf("problem %q lacks %q", problems[i], want)
				}
			}
			if tt.check != nil {
				tt.check(t, ports)
			}
		})
	}
}
