package iptablestest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// IPSet is the content of one ipset as the Fake and the Tracer see it.
type IPSet struct {
	// Type is the ipset type: "hash:ip", "hash:net", "hash:ip,port",
	// "hash:ip,port,ip", "hash:ip,port,net", "hash:net,port" or
	// "bitmap:port".
	Type string
	// Members are entries in ipset's own syntax, such as "10.0.0.1",
	// "10.0.0.0/8", "10.0.0.1,tcp:80", "10.0.0.1,udp:53,10.244.0.5" or
	// "30080". A port without a protocol is TCP.
	Members []string
}

// IPSets gives the Fake and the Tracer the node's ipsets.
type IPSets interface {
	// IPSet returns the named set.
	IPSet(name string) (IPSet, bool)
}

// IPSetMap is an IPSets held in a map from set name to set.
type IPSetMap map[string]IPSet

// IPSet returns the named set.
func (m IPSetMap) IPSet(name string) (IPSet, bool) {
	s, ok := m[name]
	return s, ok
}

// dims returns the kinds of the type's dimensions: "ip", "net" or "port".
func (s IPSet) dims() ([]string, error) {
	method, kinds, ok := strings.Cut(s.Type, ":")
	if !ok || method != "hash" && method != "bitmap" {
		return nil, fmt.Errorf("unsupported ipset type %q", s.Type)
	}
	dims := strings.Split(kinds, ",")
	for _, d := range dims {
		if d != "ip" && d != "net" && d != "port" {
			return nil, fmt.Errorf("unsupported ipset type %q", s.Type)
		}
	}
	return dims, nil
}

// contains reports whether the set holds the entry built from the flow by
// the directions of a --match-set ("dst,dst,src").
func (s IPSet) contains(directions string, fl *flow) (bool, error) {
	dims, err := s.dims()
	if err != nil {
		return false, err
	}
	dirs := strings.Split(directions, ",")
	if len(dirs) < len(dims) {
		return false, fmt.Errorf("set of type %s needs %d directions, got %q", s.Type, len(dims), directions)
	}
	for _, m := range s.Members {
		parts := strings.Split(m, ",")
		if len(parts) != len(dims) {
			return false, fmt.Errorf("member %q does not fit type %s", m, s.Type)
		}
		hit := true
		for k, d := range dims {
			ok, err := memberPartMatches(d, parts[k], dirs[k] == "src", fl)
			if err != nil {
				return false, fmt.Errorf("member %q: %w", m, err)
			}
			if !ok {
				hit = false
				break
			}
		}
		if hit {
			return true, nil
		}
	}
	return false, nil
}

func memberPartMatches(kind, part string, src bool, fl *flow) (bool, error) {
	addr, port := fl.dst, fl.dport
	if src {
		addr, port = fl.src, fl.sport
	}
	if kind == "port" {
		proto, num, ok := strings.Cut(part, ":")
		if !ok {
			proto, num = "tcp", part
		}
		n, err := strconv.ParseUint(num, 10, 16)
		if err != nil {
			return false, fmt.Errorf("bad port %q", part)
		}
		return proto == fl.proto && uint16(n) == port, nil
	}
	if strings.IndexByte(part, '/') >= 0 {
		pfx, err := netip.ParsePrefix(part)
		if err != nil {
			return false, err
		}
		return pfx.Contains(addr), nil
	}
	a, err := netip.ParseAddr(part)
	if err != nil {
		return false, err
	}
	return a == addr, nil
}
