package ipset

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is an ipset set type.
type Type string

// The set types kproxy uses.
const (
	HashIP        Type = "hash:ip"
	HashIPPort    Type = "hash:ip,port"
	HashIPPortIP  Type = "hash:ip,port,ip"
	HashIPPortNet Type = "hash:ip,port,net"
	BitmapPort    Type = "bitmap:port"
)

// dims returns the kinds of a type's dimensions ("ip", "port", "net"), or nil for a
// type this package does not know.
func (t Type) dims() []string {
	switch t {
	case HashIP:
		return []string{"ip"}
	case HashIPPort:
		return []string{"ip", "port"}
	case HashIPPortIP:
		return []string{"ip", "port", "ip"}
	case HashIPPortNet:
		return []string{"ip", "port", "net"}
	case BitmapPort:
		return []string{"port"}
	}
	return nil
}

// Hash reports whether t is a hash type, which has an address family.
func (t Type) Hash() bool { return strings.HasPrefix(string(t), "hash:") }

// Family is the address family of a hash set.
type Family string

// The families of hash sets.
const (
	Inet  Family = "inet"
	Inet6 Family = "inet6"
)

// Defaults of hash sets, as the ipset tool and kube-proxy use them.
const (
	DefaultHashSize = 1024
	DefaultMaxElem  = 65536
)

// MaxNameLen is the longest set name the kernel accepts.
const MaxNameLen = 31

// Set describes one set. Sets are compared by all their fields: creating a set
// that exists with other fields fails, as with the real tool.
type Set struct {
	Name string
	Type Type
	// Family is Inet or Inet6 for hash types and "" for bitmap:port.
	Family Family
	// HashSize and MaxElem size hash sets; 0 means the defaults.
	HashSize, MaxElem int
}

// Normalize returns s with defaults filled in.
func (s Set) Normalize() Set {
	if !s.Type.Hash() {
		s.Family, s.HashSize, s.MaxElem = "", 0, 0
		return s
	}
	if s.HashSize == 0 {
		s.HashSize = DefaultHashSize
	}
	if s.MaxElem == 0 {
		s.MaxElem = DefaultMaxElem
	}
	return s
}

// Validate reports whether the set can be created.
func (s Set) Validate() error {
	switch {
	case s.Name == "" || len(s.Name) > MaxNameLen:
		return fmt.Errorf("ipset: set name %q must have 1 to %d characters", s.Name, MaxNameLen)
	case strings.ContainsAny(s.Name, " \t\n\"'"):
		return fmt.Errorf("ipset: set name %q holds a blank or a quote", s.Name)
	case s.Type.dims() == nil:
		return fmt.Errorf("ipset: set %s has unsupported type %q", s.Name, s.Type)
	case s.Type.Hash() && s.Family != Inet && s.Family != Inet6:
		return fmt.Errorf("ipset: hash set %s needs family inet or inet6, not %q", s.Name, s.Family)
	}
	return nil
}

// CreateOptions returns what follows "create NAME" in ipset's syntax, such as
// "hash:ip,port family inet hashsize 1024 maxelem 65536" or "bitmap:port range 0-65535".
func (s Set) CreateOptions() string {
	s = s.Normalize()
	if !s.Type.Hash() {
		return string(s.Type) + " range 0-65535"
	}
	return string(s.Type) + " family " + string(s.Family) + " hashsize " + strconv.Itoa(s.HashSize) +
		" maxelem " + strconv.Itoa(s.MaxElem)
}

// Contents is a set and its entries, in canonical form and sorted.
type Contents struct {
	Set
	Entries []string
}
