package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// udpInterval is how often udpwatch sends.
const udpInterval = 50 * time.Millisecond

// udpwatch sends a datagram to an e2e/echo server every 50 ms from one
// socket, so from one source port, for the given seconds. Each time the
// answering pod differs from the previous answer it prints "<ms> <pod>
// <gap>", ms being the guest's uptime (CLOCK_BOOTTIME, as /proc/uptime)
// when the reply arrived and gap the milliseconds since the previous answer
// (0 for the first): how long the client went unanswered while switching.
// At the end it prints "done <sent> <answered>". Lost datagrams and ICMP
// errors are counted as unanswered.
func udpwatch(args []string, out io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(out, "usage: kpguest udpwatch IP:PORT SECONDS")
		return 2
	}
	secs, err := strconv.ParseFloat(args[1], 64)
	if err != nil || secs <= 0 {
		fmt.Fprintf(out, "kpguest udpwatch: bad duration %q\n", args[1])
		return 2
	}
	c, err := net.Dial("udp", args[0])
	if err != nil {
		fmt.Fprintf(out, "kpguest udpwatch: %v\n", err)
		return 1
	}
	defer c.Close()
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	buf := make([]byte, 512)
	last, lastMS := "", int64(0)
	sent, answered := 0, 0
	for next := time.Now(); time.Now().Before(end); next = next.Add(udpInterval) {
		time.Sleep(time.Until(next))
		sent++
		pod, ok := udpAsk(c, buf, next.Add(udpInterval))
		if !ok {
			continue
		}
		answered++
		now := uptimeMS()
		if pod != last {
			gap := int64(0)
			if last != "" {
				gap = now - lastMS
			}
			fmt.Fprintf(out, "%d %s %d\n", now, pod, gap)
			last = pod
		}
		lastMS = now
	}
	fmt.Fprintf(out, "done %d %d\n", sent, answered)
	return 0
}

// udpAsk sends one datagram and returns the pod named by the reply that
// arrives before deadline.
func udpAsk(c net.Conn, buf []byte, deadline time.Time) (string, bool) {
	if _, err := c.Write([]byte("ping")); err != nil {
		return "", false
	}
	c.SetReadDeadline(deadline)
	n, err := c.Read(buf)
	if err != nil {
		return "", false
	}
	pod, _, _ := strings.Cut(string(buf[:n]), " ")
	return pod, pod != ""
}

// uptimeMS is CLOCK_BOOTTIME in milliseconds: the clock of /proc/uptime,
// which the guest scripts read.
func uptimeMS() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return -1
	}
	return ts.Nano() / 1e6
}
