package app

import (
	"fmt"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of host ports: Base, Base+1, …, Base+Size-1.
// As with kube-proxy, a range starting at port 0 ("", "0" or "0-0") means
// "any free port".
type PortRange struct {
	Base int
	Size int
}

// ParsePortRange parses a --proxy-port-range value the way kube-proxy does:
// "" (no range), a single port "30000", "30000-30100" (both ends included)
// or "30000+100" (base plus offset, so 30000 through 30100).
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return PortRange{}, nil
	}
	low, high, err := portRangeEnds(s)
	if err != nil {
		return PortRange{}, err
	}
	if low < 0 || high > 65535 {
		return PortRange{}, fmt.Errorf("ports must be within 0-65535")
	}
	if high < low {
		return PortRange{}, fmt.Errorf("end port %d is below start port %d", high, low)
	}
	return PortRange{Base: low, Size: high - low + 1}, nil
}

// portRangeEnds splits a non-empty range into its first and last port.
func portRangeEnds(s string) (low, high int, err error) {
	if first, rest, ok := strings.Cut(s, "-"); ok {
		return twoPorts(first, rest, false)
	}
	if first, rest, ok := strings.Cut(s, "+"); ok {
		return twoPorts(first, rest, true)
	}
	p, err := atoiPort(s)
	return p, p, err
}

// twoPorts parses "a" and "b" of "a-b" or "a+b"; with offset, b counts from a.
func twoPorts(a, b string, offset bool) (low, high int, err error) {
	if low, err = atoiPort(a); err != nil {
		return 0, 0, err
	}
	if high, err = atoiPort(b); err != nil {
		return 0, 0, err
	}
	if offset {
		high += low
	}
	return low, high, nil
}

// atoiPort parses one unsigned decimal number.
func atoiPort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	return int(n), nil
}

// Any reports whether the range leaves the choice of port to the kernel.
func (pr PortRange) Any() bool {
	return pr.Base == 0
}

// String formats the range as "base-last", or "" for the zero range.
func (pr PortRange) String() string {
	if pr.Size == 0 {
		return ""
	}
	return fmt.Sprintf("%d-%d", pr.Base, pr.Base+pr.Size-1)
}
