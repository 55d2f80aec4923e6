package conntrack

import "github.com/vishvananda/netlink"

// MatchesFlow reports whether the netlink filter of f selects flow, for tests.
func MatchesFlow(f StaleFlow, flow *netlink.ConntrackFlow) (bool, error) {
	filter, err := filterOf(f)
	if err != nil {
		return false, err
	}
	return filter.MatchConntrackFlow(flow), nil
}
