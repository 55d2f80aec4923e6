package ipvstest

import (
	"net/netip"
	"slices"
	"syscall"

	"github.com/moby/ipvs"
)

// GetServices lists every virtual server, sorted, with the HASHED flag set as the
// kernel sets it.
func (f *Fake) GetServices() ([]*ipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.GetServices++
	out := make([]*ipvs.Service, 0, len(f.services))
	for _, k := range f.sortedKeys() {
		s := f.services[k].svc
		s.Flags |= flagHashed
		out = append(out, &s)
	}
	return out, nil
}

const (
	flagPersistent = 0x1
	flagHashed     = 0x2
)

// NewService adds a virtual server: EEXIST when it exists, ENOENT for a scheduler
// the kernel has no module for, EINVAL for what the kernel refuses.
func (f *Fake) NewService(s *ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.NewService++
	k, err := f.check(s)
	if err != nil {
		return err
	}
	if f.services[k] != nil {
		return syscall.EEXIST
	}
	f.services[k] = &service{svc: stored(s, k), dests: map[netip.AddrPort]realServer{}}
	return nil
}

// UpdateService changes a virtual server: ESRCH when it does not exist.
func (f *Fake) UpdateService(s *ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.UpdateService++
	k, err := f.check(s)
	if err != nil {
		return err
	}
	old := f.services[k]
	if old == nil {
		return syscall.ESRCH
	}
	old.svc = stored(s, k)
	return nil
}

// DelService deletes a virtual server with its real servers: ESRCH when it does not
// exist.
func (f *Fake) DelService(s *ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops.DelService++
	k, err := keyOf(s)
	if err != nil {
		return err
	}
	if f.services[k] == nil {
		return syscall.ESRCH
	}
	delete(f.services, k)
	return nil
}

// check validates a virtual server as the kernel does and returns its key.
func (f *Fake) check(s *ipvs.Service) (Key, error) {
	k, err := keyOf(s)
	if err != nil {
		return k, err
	}
	switch {
	case k.Protocol != syscall.IPPROTO_TCP && k.Protocol != syscall.IPPROTO_UDP && k.Protocol != syscall.IPPROTO_SCTP:
		return k, syscall.EPROTONOSUPPORT
	case s.AddressFamily == afInet6 && (s.Netmask < 1 || s.Netmask > 128):
		return k, syscall.EINVAL
	case s.Flags&flagPersistent != 0 && s.Timeout == 0:
		return k, syscall.EINVAL
	case !f.schedulers[s.SchedName]:
		return k, syscall.ENOENT
	}
	return k, nil
}

// stored is the copy of s the Fake keeps.
func stored(s *ipvs.Service, k Key) ipvs.Service {
	c := *s
	c.Address = k.Addr.AsSlice()
	c.Flags &^= flagHashed
	c.Stats = ipvs.SvcStats{}
	return c
}

func (f *Fake) sortedKeys() []Key {
	keys := make([]Key, 0, len(f.services))
	for k := range f.services {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// compareKeys orders keys by protocol name, address and port, as a sorted
// "ipvsadm -Ln" lists them.
func compareKeys(a, b Key) int {
	if c := compareStrings(protoName(a.Protocol), protoName(b.Protocol)); c != 0 {
		return c
	}
	if c := a.Addr.Compare(b.Addr); c != 0 {
		return c
	}
	return int(a.Port) - int(b.Port)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
