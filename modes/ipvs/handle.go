package ipvsmode

import (
	"github.com/moby/ipvs"
)

// Handle is the kernel seam for IPVS: the subset of *ipvs.Handle (github.com/moby/ipvs)
// kproxy uses, so the real handle satisfies it as is and ipvstest.Fake stands in for
// it in tests. Errors are the kernel's errno values (syscall.EEXIST for a virtual or
// real server that exists, syscall.ESRCH for a missing virtual server,
// syscall.ENOENT for a missing real server or scheduler).
type Handle interface {
	// GetServices lists every virtual server.
	GetServices() ([]*ipvs.Service, error)
	// NewService adds a virtual server.
	NewService(s *ipvs.Service) error
	// UpdateService changes a virtual server's scheduler, flags and timeout.
	UpdateService(s *ipvs.Service) error
	// DelService deletes a virtual server and its real servers.
	DelService(s *ipvs.Service) error
	// GetDestinations lists the real servers of a virtual server, with their
	// connection counts.
	GetDestinations(s *ipvs.Service) ([]*ipvs.Destination, error)
	// NewDestination adds a real server.
	NewDestination(s *ipvs.Service, d *ipvs.Destination) error
	// UpdateDestination changes a real server's weight.
	UpdateDestination(s *ipvs.Service, d *ipvs.Destination) error
	// DelDestination deletes a real server.
	DelDestination(s *ipvs.Service, d *ipvs.Destination) error
	// SetConfig sets the TCP, TCP FIN and UDP timeouts; 0 keeps the current value.
	SetConfig(c *ipvs.Config) error
}

var _ Handle = (*ipvs.Handle)(nil)

// NewHandle opens an IPVS netlink handle in the network namespace at netnsPath,
// or in the current one when netnsPath is "". It loads the ip_vs module when it
// can. Close it with Close when done.
func NewHandle(netnsPath string) (*ipvs.Handle, error) {
	return ipvs.New(netnsPath)
}

// Flags of ipvs.Service.Flags (IP_VS_SVC_F_*).
const (
	// FlagPersistent makes a client stick to its real server (session affinity).
	FlagPersistent = 0x1
	// FlagHashed is set by the kernel on every listed virtual server.
	FlagHashed = 0x2
	// FlagSchedPort is IP_VS_SVC_F_SCHED2: the sh and mh schedulers hash the source
	// port too ("mh-port"). kube-proxy sets it for mh.
	FlagSchedPort = 0x10
)
