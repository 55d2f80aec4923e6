package iptablesmode

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strings"

	"github.com/kproxy/kproxy/proxy"
)

// Chains kproxy fills in the nat table.
const (
	chainServices    = "KUBE-SERVICES"
	chainNodePorts   = "KUBE-NODEPORTS"
	chainPostrouting = "KUBE-POSTROUTING"
	chainMarkMasq    = "KUBE-MARK-MASQ"
)

// Chains kproxy fills in the filter table (besides KUBE-SERVICES and KUBE-NODEPORTS).
const (
	chainExternalServices = "KUBE-EXTERNAL-SERVICES"
	chainForward          = "KUBE-FORWARD"
	chainProxyFirewall    = "KUBE-PROXY-FIREWALL"
	// chainLocalnetFirewall blocks martian packets to 127.0.0.0/8 when localhost node
	// ports are on. kubelet writes the same chain with the same rule, so kproxy
	// never deletes it.
	chainLocalnetFirewall = "KUBE-FIREWALL"
)

// chainCanary is the empty chain whose disappearance tells that someone flushed the
// tables.
const chainCanary = "KUBE-PROXY-CANARY"

// Prefixes of the per-service chains. KUBE-XLB- is the name older kube-proxy
// releases gave KUBE-SVL- chains; kproxy only ever deletes those.
const (
	prefixService  = "KUBE-SVC-"
	prefixLocal    = "KUBE-SVL-"
	prefixExternal = "KUBE-EXT-"
	prefixFirewall = "KUBE-FW-"
	prefixEndpoint = "KUBE-SEP-"
	prefixOldLocal = "KUBE-XLB-"
)

// isServiceChain reports whether chain is a per-service or per-endpoint nat chain that
// kproxy (or kube-proxy before it) creates, and so may delete when no service uses it.
func isServiceChain(chain string) bool {
	for _, p := range [...]string{prefixService, prefixLocal, prefixExternal, prefixFirewall, prefixEndpoint, prefixOldLocal} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}

// chainHash returns the 16 characters kube-proxy derives a chain name from: the
// base32 encoding of the SHA-256 of the joined parts. Using the same input as
// upstream gives the same names, so operators' tools and habits keep working.
func chainHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return base32.StdEncoding.EncodeToString(h.Sum(sum[:0]))[:16]
}

// serviceNames are the names and comments of one service port, computed once.
type serviceNames struct {
	// name is "ns/svc:port" as upstream prints it in comments.
	name string
	// proto is the lower-case protocol: "tcp", "udp" or "sctp".
	proto string
	// hash is the 16-character suffix shared by the port's chains.
	svc, svl, ext, fw string
	// endpoints caches KUBE-SEP- names by endpoint.
	endpoints map[netip.AddrPort]string
}

// newServiceNames derives the chain names of a service port.
func newServiceNames(n proxy.ServicePortName) *serviceNames {
	name := n.String()
	proto := strings.ToLower(string(n.Protocol))
	hash := chainHash(name, proto)
	return &serviceNames{
		name:  name,
		proto: proto,
		svc:   prefixService + hash,
		svl:   prefixLocal + hash,
		ext:   prefixExternal + hash,
		fw:    prefixFirewall + hash,
	}
}

// endpoint returns the KUBE-SEP- chain name of one endpoint of the port, which is
// also the name of its session-affinity list.
func (s *serviceNames) endpoint(ep netip.AddrPort) string {
	if c, ok := s.endpoints[ep]; ok {
		return c
	}
	if s.endpoints == nil {
		s.endpoints = map[netip.AddrPort]string{}
	}
	c := prefixEndpoint + chainHash(s.name, s.proto, ep.String())
	s.endpoints[ep] = c
	return c
}

// nameCache keeps serviceNames per service port across syncs.
type nameCache map[proxy.ServicePortName]*serviceNames

// get returns the names of n, computing them on first use.
func (c nameCache) get(n proxy.ServicePortName) *serviceNames {
	if s, ok := c[n]; ok {
		return s
	}
	s := newServiceNames(n)
	c[n] = s
	return s
}

// trimEndpoints forgets the cached endpoint names when far more are cached than the
// port now uses, so the cache does not grow with every pod the service ever had.
func (s *serviceNames) trimEndpoints(used int) {
	if len(s.endpoints) > 2*used+16 {
		s.endpoints = nil
	}
}
