package vm

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
)

// Addresses of QEMU's user network as the guest sees it.
var (
	userNet     = netip.MustParsePrefix("10.0.2.0/24")
	guestAddr   = netip.MustParsePrefix("10.0.2.15/24")
	slirpHost   = netip.MustParseAddr("10.0.2.2") // the host's gateway address
	slirpDNS    = netip.MustParseAddr("10.0.2.3")
	relayBinary = busyboxBinary // runs `nc` once per guest connection
)

// forward is one validated Config.HostForwards entry.
type forward struct {
	guest    netip.AddrPort // what the guest connects to
	hostPort uint16         // the port on the host's 127.0.0.1 it reaches
}

// parseForwards validates Config.HostForwards: every guest address must be
// a free address of the user network (not its gateway, DNS server, the
// guest itself or broadcast), and every host port a valid port. The result
// is sorted by guest address.
func parseForwards(m map[string]int) ([]forward, error) {
	var out []forward
	for g, hp := range m {
		ap, err := netip.ParseAddrPort(g)
		if err != nil {
			return nil, fmt.Errorf("host forward %q: want guest ip:port: %w", g, err)
		}
		a := ap.Addr()
		switch {
		case !userNet.Contains(a):
			return nil, fmt.Errorf("host forward %q: guest address must be in %s", g, userNet)
		case a == slirpHost || a == slirpDNS || a == guestAddr.Addr() ||
			a == userNet.Addr() || a == netip.MustParseAddr("10.0.2.255"):
			return nil, fmt.Errorf("host forward %q: %s is reserved on the user network", g, a)
		case ap.Port() == 0:
			return nil, fmt.Errorf("host forward %q: guest port 0", g)
		case hp < 1 || hp > 65535:
			return nil, fmt.Errorf("host forward %q: host port %d out of range", g, hp)
		}
		out = append(out, forward{guest: ap, hostPort: uint16(hp)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].guest.Compare(out[j].guest) < 0 })
	return out, nil
}

// netdevArg renders the -netdev option: QEMU's user network in restricted
// mode (the guest reaches neither the host nor the outside world) with one
// guestfwd per forward. Each guest connection runs its own relay process
// connected to the host's loopback; QEMU's other guestfwd form (a chardev)
// would open a single host connection at start-up and share it between
// all guest connections.
func netdevArg(fwds []forward) string {
	s := "user,id=net0,restrict=on,ipv6=off,net=" + userNet.String() +
		",host=" + slirpHost.String() + ",dns=" + slirpDNS.String()
	for _, f := range fwds {
		// The relay's standard error is the guest's connection too: nc's "can't
		// connect" text would reach the guest as data, where a closed connection
		// (what a load balancer with no backend gives) is what it should see.
		s += fmt.Sprintf(`,guestfwd=tcp:%s-cmd:%s sh -c "exec %s nc 127.0.0.1 %s 2>/dev/null"`,
			f.guest, relayBinary, relayBinary, strconv.Itoa(int(f.hostPort)))
	}
	return s
}
