package ipvstest

import (
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/moby/ipvs"
)

// Handle is the IPVS mode's kernel seam (ipvsmode.Handle), repeated here so the
// fakes need not import the mode.
type Handle interface {
	GetServices() ([]*ipvs.Service, error)
	NewService(s *ipvs.Service) error
	UpdateService(s *ipvs.Service) error
	DelService(s *ipvs.Service) error
	GetDestinations(s *ipvs.Service) ([]*ipvs.Destination, error)
	NewDestination(s *ipvs.Service, d *ipvs.Destination) error
	UpdateDestination(s *ipvs.Service, d *ipvs.Destination) error
	DelDestination(s *ipvs.Service, d *ipvs.Destination) error
	SetConfig(c *ipvs.Config) error
}

// Address families and protocols of ipvs.Service.
const (
	afInet  = syscall.AF_INET
	afInet6 = syscall.AF_INET6
)

// schedulers are the schedulers a default Fake offers, as a kernel with every
// ip_vs_* module does.
var schedulers = [...]string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"}

// Key identifies a virtual server: protocol number, address and port.
type Key struct {
	Protocol uint16
	Addr     netip.Addr
	Port     uint16
}

// Fake is an in-memory IPVS table. It is safe for concurrent use. Services and
// destinations handed out are copies.
type Fake struct {
	mu         sync.Mutex
	services   map[Key]*service
	schedulers map[string]bool
	config     ipvs.Config
	ops        Ops
}

// service is one virtual server and its real servers.
type service struct {
	svc   ipvs.Service
	dests map[netip.AddrPort]realServer
}

// Ops counts the calls a Fake answered, failed ones included.
type Ops struct {
	GetServices, NewService, UpdateService, DelService                 int
	GetDestinations, NewDestination, UpdateDestination, DelDestination int
	SetConfig                                                          int
}

// Writes returns the number of calls that change virtual or real servers.
func (o Ops) Writes() int {
	return o.NewService + o.UpdateService + o.DelService + o.NewDestination + o.UpdateDestination + o.DelDestination
}

var _ Handle = (*Fake)(nil)

// New returns an empty Fake offering every scheduler kproxy knows (rr, wrr, lc,
// wlc, lblc, lblcr, dh, sh, sed, nq, mh).
func New() *Fake {
	f := &Fake{services: map[Key]*service{}}
	f.SetSchedulers(schedulers[:]...)
	return f
}

// SetSchedulers sets the schedulers the "kernel" has modules for; creating a
// virtual server with another fails with ENOENT.
func (f *Fake) SetSchedulers(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedulers = map[string]bool{}
	for _, n := range names {
		f.schedulers[n] = true
	}
}

// Ops returns the operation counts since New or the last ResetOps.
func (f *Fake) Ops() Ops {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// ResetOps zeroes the operation counts.
func (f *Fake) ResetOps() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = Ops{}
}

// Config returns the timeouts last set.
func (f *Fake) Config() ipvs.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.config
}

// Len returns the number of virtual servers.
func (f *Fake) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.services)
}

// SetConfig records the timeouts; a zero one keeps its value, as in the kernel.
func (f *Fake) SetConfig(c *ipvs.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.SetConfig++
	if c.TimeoutTCP != 0 {
		f.config.TimeoutTCP = c.TimeoutTCP
	}
	if c.TimeoutTCPFin != 0 {
		f.config.TimeoutTCPFin = c.TimeoutTCPFin
	}
	if c.TimeoutUDP != 0 {
		f.config.TimeoutUDP = c.TimeoutUDP
	}
	return nil
}

// keyOf returns the key of s, or an error the kernel would give for it.
func keyOf(s *ipvs.Service) (Key, error) {
	if s == nil || s.FWMark != 0 {
		return Key{}, syscall.EINVAL
	}
	addr, ok := addrOf(s.Address, s.AddressFamily)
	if !ok {
		return Key{}, syscall.EAFNOSUPPORT
	}
	return Key{Protocol: s.Protocol, Addr: addr, Port: s.Port}, nil
}

// addrOf converts an address given with its family.
func addrOf(ip net.IP, family uint16) (netip.Addr, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	switch family {
	case afInet:
		return addr, addr.Is4()
	case afInet6:
		return addr, addr.Is6()
	}
	return netip.Addr{}, false
}
