package framework

import (
	"fmt"
	"net/netip"
)

// The address plan. Node numbers start at 1, client numbers too.
const (
	// FabricCIDR is the subnet of the fabric bridge joining nodes and clients.
	FabricCIDR = "10.200.0.0/24"
	// ClusterCIDR holds every node's pod CIDR (10.244.<node>.0/24).
	ClusterCIDR = "10.244.0.0/16"
	// ServiceCIDR is the apiserver's --service-cluster-ip-range.
	ServiceCIDR = "10.96.0.0/16"
	// APIServerPort is the apiserver's secure port on FabricIP.
	APIServerPort = 6443
	// MaxNodes bounds the node count so node and client addresses never meet.
	MaxNodes = 80
	// MaxClients bounds the client count.
	MaxClients = 100
)

// Ports the echo server listens on in every pod.
const (
	EchoTCPPort  = 8080
	EchoUDPPort  = 8080
	EchoHTTPPort = 8081
)

// fabricPrefixLen is FabricCIDR's mask length.
const fabricPrefixLen = 24

// FabricIP is the fabric bridge's address, where the apiserver listens.
func FabricIP() netip.Addr { return netip.MustParseAddr("10.200.0.1") }

// APIServerURL is the address nodes use to reach the apiserver.
func APIServerURL() string {
	return "https://" + netip.AddrPortFrom(FabricIP(), APIServerPort).String()
}

// NodeIP is node i's fabric address (its InternalIP): 10.200.0.(10+i).
func NodeIP(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 200, 0, byte(10 + i)}) }

// ClientIP is client j's fabric address: 10.200.0.(100+j).
func ClientIP(j int) netip.Addr { return netip.AddrFrom4([4]byte{10, 200, 0, byte(100 + j)}) }

// PodCIDR is node i's pod range: 10.244.i.0/24.
func PodCIDR(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24)
}

// PodGateway is node i's cbr0 address, the pods' default gateway: 10.244.i.1.
func PodGateway(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 244, byte(i), 1}) }

// PodIP is the k-th pod address on node i (k from 2 to 254): 10.244.i.k.
func PodIP(i, k int) netip.Addr { return netip.AddrFrom4([4]byte{10, 244, byte(i), byte(k)}) }

// withLen formats an address with a prefix length, as `ip addr add` wants.
func withLen(a netip.Addr, bits int) string {
	return fmt.Sprintf("%s/%d", a, bits)
}
