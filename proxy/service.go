package proxy

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kproxy/kproxy/endpoints"
)

// defaultAffinityTimeout is the ClientIP affinity timeout when a Service sets none (3 hours).
const defaultAffinityTimeout = 10800 * time.Second

// PortsByFamily holds the ports of one service for each IP family it has a cluster IP of.
type PortsByFamily map[v1.IPFamily][]ServicePort

// ConvertService turns a Service into the ports kproxy programs, one list per IP family.
// Services kproxy does not proxy (headless, ExternalName) give none. Parts that cannot be
// programmed (an unparsable IP, an unknown protocol, a port out of range) are left out and
// described in problems; the rest of the service still works.
func ConvertService(svc *v1.Service) (ports PortsByFamily, problems []string) {
	if !proxied(svc) {
		return nil, nil
	}
	if problem := badNames(svc); problem != "" {
		return nil, []string{problem}
	}
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	common, problems := commonPort(svc)
	ports = PortsByFamily{}
	portsChecked := false // port problems are the same in every family: report them once
	for _, raw := range clusterIPs(svc) {
		ip, err := parseIP(raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("cluster IP %q is not an IP", raw))
			continue
		}
		family := familyOf(ip)
		if _, dup := ports[family]; dup {
			problems = append(problems, fmt.Sprintf("second %s cluster IP %s ignored", family, ip))
			continue
		}
		perFamily := common.forFamily(family, ip)
		for i := range svc.Spec.Ports {
			sp, problem := convertPort(name, perFamily, &svc.Spec.Ports[i])
			if problem != "" {
				if !portsChecked {
					problems = append(problems, problem)
				}
				continue
			}
			ports[family] = append(ports[family], sp)
		}
		portsChecked = true
	}
	return ports, problems
}

// proxied reports whether kproxy programs the service at all.
func proxied(svc *v1.Service) bool {
	if svc.Spec.Type == v1.ServiceTypeExternalName {
		return false
	}
	ip := svc.Spec.ClusterIP
	return ip != "" && ip != v1.ClusterIPNone
}

// badNames says why the service's namespace or name cannot be programmed, "" when they
// can. Backends print names in rule comments and hash them into chain names, so they
// must be what the API server allows: DNS labels (which also keeps comments within the
// 255 bytes iptables takes, and quotes and newlines out of iptables-restore input).
func badNames(svc *v1.Service) string {
	for _, n := range [...]struct{ what, name string }{{"namespace", svc.Namespace}, {"name", svc.Name}} {
		if len(validation.IsDNS1123Label(n.name)) > 0 {
			return fmt.Sprintf("service %s %q is not a DNS label", n.what, n.name)
		}
	}
	return ""
}

// clusterIPs returns the service's cluster IPs, falling back to the single clusterIP field.
func clusterIPs(svc *v1.Service) []string {
	if len(svc.Spec.ClusterIPs) > 0 {
		return svc.Spec.ClusterIPs
	}
	return []string{svc.Spec.ClusterIP}
}

// commonPort builds the fields every port of the service shares, for all families.
func commonPort(svc *v1.Service) (ServicePort, []string) {
	var sp ServicePort
	var problems []string
	sp.ExternalIPs, problems = parseIPs("external IP", svc.Spec.ExternalIPs, problems)
	if svc.Spec.Type == v1.ServiceTypeLoadBalancer {
		sp.LoadBalancerIPs, problems = parseIPs("load-balancer IP", ingressIPs(svc), problems)
		sp.SourceRanges, problems = parsePrefixes(svc.Spec.LoadBalancerSourceRanges, problems)
	}
	if svc.Spec.SessionAffinity == v1.ServiceAffinityClientIP {
		sp.AffinityTimeout = affinityTimeout(svc)
	}
	externalType := svc.Spec.Type == v1.ServiceTypeNodePort || svc.Spec.Type == v1.ServiceTypeLoadBalancer
	sp.Policy = endpoints.Policy{
		InternalLocal: svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == v1.ServiceInternalTrafficPolicyLocal,
		ExternalLocal: externalType && svc.Spec.ExternalTrafficPolicy == v1.ServiceExternalTrafficPolicyLocal,
	}
	if sp.Policy.ExternalLocal && svc.Spec.HealthCheckNodePort > 0 && svc.Spec.HealthCheckNodePort <= 65535 {
		sp.HealthCheckNodePort = uint16(svc.Spec.HealthCheckNodePort)
	}
	return sp, problems
}

// ingressIPs lists the load-balancer ingress IPs that should be handled on the node: those
// whose ipMode is VIP (or unset), not Proxy.
func ingressIPs(svc *v1.Service) []string {
	var out []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP == "" || (ing.IPMode != nil && *ing.IPMode == v1.LoadBalancerIPModeProxy) {
			continue
		}
		out = append(out, ing.IP)
	}
	return out
}

// affinityTimeout reads the ClientIP affinity timeout, with the API default.
func affinityTimeout(svc *v1.Service) time.Duration {
	cfg := svc.Spec.SessionAffinityConfig
	if cfg == nil || cfg.ClientIP == nil || cfg.ClientIP.TimeoutSeconds == nil || *cfg.ClientIP.TimeoutSeconds <= 0 {
		return defaultAffinityTimeout
	}
	return time.Duration(*cfg.ClientIP.TimeoutSeconds) * time.Second
}

// forFamily copies the shared fields keeping only addresses of family.
func (sp ServicePort) forFamily(family v1.IPFamily, clusterIP netip.Addr) ServicePort {
	sp.ClusterIP = clusterIP
	sp.ExternalIPs = keepFamily(sp.ExternalIPs, family, netip.Addr.Is4)
	sp.LoadBalancerIPs = keepFamily(sp.LoadBalancerIPs, family, netip.Addr.Is4)
	if len(sp.SourceRanges) > 0 {
		ranges := keepFamily(sp.SourceRanges, family, func(p netip.Prefix) bool { return p.Addr().Is4() })
		sp.SourceRanges = append([]netip.Prefix{}, ranges...) // never nil: nil would mean anyone
	}
	return sp
}

// convertPort fills in the per-port fields, or says why the port cannot be programmed.
func convertPort(svc types.NamespacedName, sp ServicePort, port *v1.ServicePort) (ServicePort, string) {
	protocol := port.Protocol
	if protocol == "" {
		protocol = v1.ProtocolTCP
	}
	sp.Name = ServicePortName{NamespacedName: svc, Port: port.Name, Protocol: protocol}
	if port.Name != "" && len(validation.IsDNS1123Label(port.Name)) > 0 {
		return sp, fmt.Sprintf("port name %q is not a DNS label", port.Name)
	}
	switch protocol {
	case v1.ProtocolTCP, v1.ProtocolUDP, v1.ProtocolSCTP:
	default:
		return sp, fmt.Sprintf("port %q has unknown protocol %q", port.Name, protocol)
	}
	if port.Port < 1 || port.Port > 65535 {
		return sp, fmt.Sprintf("port %q number %d is out of range", port.Name, port.Port)
	}
	if port.NodePort < 0 || port.NodePort > 65535 {
		return sp, fmt.Sprintf("port %q node port %d is out of range", port.Name, port.NodePort)
	}
	sp.Port, sp.NodePort = uint16(port.Port), uint16(port.NodePort)
	return sp, ""
}

// parseIP parses an IP, accepting IPv4-mapped IPv6 as IPv4, rejecting zones.
func parseIP(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err == nil && ip.Zone() != "" {
		err = fmt.Errorf("zone not allowed")
	}
	return ip.Unmap(), err
}

// familyOf returns the IP family of an address.
func familyOf(ip netip.Addr) v1.IPFamily {
	if ip.Is4() {
		return v1.IPv4Protocol
	}
	return v1.IPv6Protocol
}

// parseIPs parses a list of IPs, recording the ones that do not parse.
func parseIPs(what string, raw []string, problems []string) ([]netip.Addr, []string) {
	var out []netip.Addr
	for _, s := range raw {
		ip, err := parseIP(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not an IP", what, s))
			continue
		}
		out = append(out, ip)
	}
	return out, problems
}

// parsePrefixes parses source ranges, recording the ones that do not parse.
func parsePrefixes(raw []string, problems []string) ([]netip.Prefix, []string) {
	var out []netip.Prefix
	for _, s := range raw {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			problems = append(problems, fmt.Sprintf("load-balancer source range %q is not a CIDR", s))
			continue
		}
		out = append(out, p.Masked())
	}
	return out, problems
}

// keepFamily returns the items of family, judged by is4; nil when none.
func keepFamily[T any](items []T, family v1.IPFamily, is4 func(T) bool) []T {
	var out []T
	for _, it := range items {
		if is4(it) == (family == v1.IPv4Protocol) {
			out = append(out, it)
		}
	}
	return out
}
