package fuzzcorpus

import (
	"math"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// gen builds objects from a Source.
type gen struct {
	src *Source
	rv  int // last resource version handed out
	// services are the services made so far, for slices to target.
	services []*v1.Service
}

// meta returns the metadata of an object in one of the generator's namespaces.
func (g *gen) meta(prefix string, pool int) metav1.ObjectMeta {
	ns := g.name("ns", 3)
	if ns == AnchorNamespace {
		ns += "-not"
	}
	g.rv++
	m := metav1.ObjectMeta{Namespace: ns, Name: g.name(prefix, pool), ResourceVersion: strconv.Itoa(g.rv)}
	if g.src.OneIn(10) {
		m.Labels = map[string]string{"app": strings.Repeat("v", 64+g.src.Intn(4096))}
	}
	return m
}

// service builds a Service.
func (g *gen) service() *v1.Service {
	s := g.src
	svc := &v1.Service{ObjectMeta: g.meta("svc", 4)}
	svc.Spec.Type = Pick(s, v1.ServiceTypeClusterIP, v1.ServiceTypeClusterIP, v1.ServiceTypeNodePort,
		v1.ServiceTypeLoadBalancer, v1.ServiceTypeLoadBalancer, v1.ServiceTypeExternalName, "", "Weird")
	g.clusterIPs(svc)
	g.ports(svc)
	for range s.Intn(4) {
		svc.Spec.ExternalIPs = append(svc.Spec.ExternalIPs, g.ip(family(s.Intn(2))))
	}
	for range s.Intn(4) {
		ing := v1.LoadBalancerIngress{IP: g.ip(family(s.Intn(2)))}
		if s.OneIn(3) {
			ing.IPMode = ptr(Pick(s, v1.LoadBalancerIPModeVIP, v1.LoadBalancerIPModeProxy, "Odd"))
		}
		if s.OneIn(4) {
			ing.Hostname = "lb.example.com"
		}
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, ing)
	}
	for range s.Intn(4) {
		svc.Spec.LoadBalancerSourceRanges = append(svc.Spec.LoadBalancerSourceRanges, g.cidr())
	}
	g.policies(svc)
	g.services = append(g.services, svc)
	return svc
}

// clusterIPs sets the cluster IPs: none, headless, one or two of any families,
// sometimes with clusterIP disagreeing with clusterIPs[0].
func (g *gen) clusterIPs(svc *v1.Service) {
	s := g.src
	var ips []string
	switch s.Intn(9) {
	case 0:
		ips = []string{v1.ClusterIPNone}
	case 1:
		ips = nil
	case 2, 3:
		ips = []string{g.ip(v4)}
	case 4:
		ips = []string{g.ip(v6)}
	case 5:
		ips = []string{g.ip(v4), g.ip(v6)}
	case 6:
		ips = []string{g.ip(v6), g.ip(v4)}
	case 7:
		ips = []string{g.ip(v4), g.ip(v4)}
	default:
		for range 1 + s.Intn(3) {
			ips = append(ips, g.ip(family(s.Intn(2))))
		}
	}
	svc.Spec.ClusterIPs = ips
	if len(ips) > 0 {
		svc.Spec.ClusterIP = ips[0]
	}
	switch s.Intn(12) {
	case 0:
		svc.Spec.ClusterIPs = nil
	case 1:
		svc.Spec.ClusterIP = g.ip(family(s.Intn(2)))
	}
}

// ports adds the service's ports: a few, none, or (rarely) thousands.
func (g *gen) ports(svc *v1.Service) {
	s := g.src
	n := s.Intn(5)
	if s.OneIn(40) {
		n = 1000 + s.Intn(2000)
	}
	for i := range n {
		p := v1.ServicePort{Name: g.name("p", 3), Protocol: g.protocol(), Port: g.port(), NodePort: g.nodePort()}
		if n > 100 { // thousands: distinct, mostly valid
			p.Name, p.Port = "p"+strconv.Itoa(i), int32(1+i%65535)
			if i%97 == 0 {
				p.Port = g.port()
			}
		}
		svc.Spec.Ports = append(svc.Spec.Ports, p)
	}
}

// policies sets traffic policies, health check port and session affinity, with
// unknown values and nil pointers among them.
func (g *gen) policies(svc *v1.Service) {
	s := g.src
	svc.Spec.ExternalTrafficPolicy = Pick[v1.ServiceExternalTrafficPolicy](s, "", v1.ServiceExternalTrafficPolicyCluster,
		v1.ServiceExternalTrafficPolicyLocal, "Odd")
	if s.OneIn(2) {
		svc.Spec.InternalTrafficPolicy = ptr(Pick[v1.ServiceInternalTrafficPolicy](s, v1.ServiceInternalTrafficPolicyCluster,
			v1.ServiceInternalTrafficPolicyLocal, "Odd"))
	}
	if s.OneIn(2) {
		svc.Spec.HealthCheckNodePort = g.port()
	}
	if !s.OneIn(3) {
		return
	}
	svc.Spec.SessionAffinity = Pick[v1.ServiceAffinity](s, v1.ServiceAffinityClientIP, v1.ServiceAffinityClientIP, v1.ServiceAffinityNone, "Odd")
	switch s.Intn(5) {
	case 0:
	case 1:
		svc.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{}
	case 2:
		svc.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{}}
	default:
		secs := Pick[int32](s, 0, -1, 1, 10800, 86400, 86401, math.MaxInt32)
		if s.OneIn(8) {
			secs = s.Int32()
		}
		svc.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: &secs}}
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
