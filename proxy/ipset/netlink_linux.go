package ipset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Netlink is the Interface that speaks to the kernel's ip_set module over netlink
// (vishvananda/netlink): one message per operation, no process. A sync that
// changes one entry costs one round trip instead of an "ipset restore" (tens of
// milliseconds on a small machine, most of it process start-up). Operations keep
// "-exist" semantics: every request goes without NLM_F_EXCL. It is safe for
// concurrent use.
type Netlink struct {
	mu sync.Mutex
	// sets caches each set's type and family, learnt when this process creates
	// it or first adds to or deletes from it: entries are encoded by type.
	sets map[string]Set
}

var _ Interface = (*Netlink)(nil)

// NewNetlink returns the netlink Interface.
func NewNetlink() *Netlink { return &Netlink{sets: map[string]Set{}} }

// Version returns the kernel's ip_set protocol version as "N.0" (protocol 6 came
// with the ipset 6 tools and IPv6 sets, so CheckVersion applies unchanged).
func (n *Netlink) Version(context.Context) (string, error) {
	proto, _, err := netlink.IpsetProtocol()
	if err != nil {
		return "", fmt.Errorf("ipset over netlink: asking the kernel's protocol version (is ip_set loaded?): %w", err)
	}
	return fmt.Sprintf("%d.0", proto), nil
}

// List dumps every set with its entries, in canonical form and sorted.
func (n *Netlink) List(context.Context) ([]Contents, error) {
	results, err := netlink.IpsetListAll()
	if err != nil {
		return nil, fmt.Errorf("ipset over netlink: listing sets: %w", err)
	}
	byName := map[string]*Contents{}
	var names []string
	for i := range results {
		if err := addResult(byName, &names, &results[i]); err != nil {
			return nil, err
		}
	}
	slices.Sort(names)
	out := make([]Contents, 0, len(names))
	for _, name := range names {
		c := byName[name]
		slices.Sort(c.Entries)
		out = append(out, *c)
	}
	return out, nil
}

// addResult merges one dump message (a big set spans several) into byName.
func addResult(byName map[string]*Contents, names *[]string, r *netlink.IPSetResult) error {
	c, ok := byName[r.SetName]
	if !ok {
		set, err := setOfResult(r)
		if err != nil {
			return err
		}
		c = &Contents{Set: set}
		byName[r.SetName] = c
		*names = append(*names, r.SetName)
	}
	for i := range r.Entries {
		entry, err := entryString(c.Set, &r.Entries[i])
		if err != nil {
			return fmt.Errorf("ipset over netlink: set %s: %w", r.SetName, err)
		}
		c.Entries = append(c.Entries, entry)
	}
	return nil
}

// setOfResult describes a dumped set as Create takes it.
func setOfResult(r *netlink.IPSetResult) (Set, error) {
	s := Set{Name: r.SetName, Type: Type(r.TypeName)}
	if s.Type.dims() == nil {
		return s, fmt.Errorf("ipset over netlink: set %s has type %q, which kproxy does not use", r.SetName, r.TypeName)
	}
	if s.Type.Hash() {
		s.Family = familyOfAF(r.Family)
		s.HashSize, s.MaxElem = int(r.HashSize), int(r.MaxElements)
	}
	return s.Normalize(), nil
}

// Apply runs the batch's operations in order and stops at the first failure.
func (n *Netlink) Apply(_ context.Context, b *Batch) error {
	for _, op := range b.Ops() {
		if err := n.apply(op); err != nil {
			return fmt.Errorf("ipset over netlink: %s %s %s: %w", op.Kind, op.Set.Name, op.Entry, err)
		}
	}
	return nil
}

// apply runs one operation.
func (n *Netlink) apply(op Op) error {
	switch op.Kind {
	case OpCreate:
		return n.create(op.Set)
	case OpAdd, OpDel:
		return n.addDel(op)
	case OpFlush:
		return netlink.IpsetFlush(op.Set.Name)
	case OpDestroy:
		n.forget(op.Set.Name)
		return netlink.IpsetDestroy(op.Set.Name)
	}
	return fmt.Errorf("unknown operation %d", op.Kind)
}

// create makes the set unless an identical one exists (the kernel compares).
func (n *Netlink) create(s Set) error {
	s = s.Normalize()
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Type.Hash() && s.HashSize != DefaultHashSize {
		return fmt.Errorf("hashsize %d: only the default (%d) can be set over netlink", s.HashSize, DefaultHashSize)
	}
	opts := netlink.IpsetCreateOptions{Replace: true} // Replace: no NLM_F_EXCL, i.e. -exist
	if s.Type.Hash() {
		opts.Family, opts.MaxElements = afOfFamily(s.Family), uint32(s.MaxElem)
	} else {
		opts.PortFrom, opts.PortTo = 0, 65535
	}
	if err := netlink.IpsetCreate(s.Name, string(s.Type), opts); err != nil {
		return err
	}
	n.remember(s)
	return nil
}

// addDel adds or deletes one entry, encoded after the set's type.
func (n *Netlink) addDel(op Op) error {
	set, err := n.lookup(op.Set.Name)
	if err != nil {
		return err
	}
	entry, err := entryOfString(set, op.Entry)
	if err != nil {
		return err
	}
	entry.Replace = true // no NLM_F_EXCL: adding a member or deleting a missing one is fine
	if set.Type == BitmapPort {
		cmd := nl.IPSET_CMD_DEL
		if op.Kind == OpAdd {
			cmd = nl.IPSET_CMD_ADD
		}
		return bitmapPortAddDel(cmd, set.Name, *entry.Port)
	}
	if op.Kind == OpAdd {
		return netlink.IpsetAdd(set.Name, entry)
	}
	return netlink.IpsetDel(set.Name, entry)
}

// lookup returns the set's description, asking the kernel the first time.
func (n *Netlink) lookup(name string) (Set, error) {
	n.mu.Lock()
	s, ok := n.sets[name]
	n.mu.Unlock()
	if ok {
		return s, nil
	}
	r, err := netlink.IpsetList(name)
	if err != nil {
		return Set{}, fmt.Errorf("looking up set %s: %w", name, err)
	}
	s, err = setOfResult(r)
	if err != nil {
		return Set{}, err
	}
	n.remember(s)
	return s, nil
}

func (n *Netlink) remember(s Set) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sets[s.Name] = s
}

func (n *Netlink) forget(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.sets, name)
}

// familyOfAF maps an address family number to a hash set family.
func familyOfAF(af uint8) Family {
	if af == unix.AF_INET6 {
		return Inet6
	}
	return Inet
}

// afOfFamily maps a hash set family to its address family number.
func afOfFamily(f Family) uint8 {
	if f == Inet6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// errNoSuchProtocol is returned for a protocol number kproxy never writes.
var errNoSuchProtocol = errors.New("protocol is not tcp, udp or sctp")
