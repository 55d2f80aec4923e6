package framework

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test network loses a few new connections that kproxy has nothing to
// do with. Measured on the development machine (kernel 6.18): a client
// opening 60 connections per second to a ClusterIP for 90 s, kproxy idle
// (its rules written once, no sync changing them), saw 0 to 8 of 5,400
// connections time out (11 runs), in bursts of up to 4 within 100 ms, with
// either iptables variant and with br_netfilter on or off; every SYN of such a
// connection left the node without DNAT (counted leaving the node and
// arriving at the fabric, which drops it) although the rules were in place.
// Connections straight to pod IPs lost none of 5,400. A failure under rules
// kproxy did not touch is therefore the kernel's, not kproxy's.

// ruleWriteLine matches kproxy's log line of an IPv4 sync that wrote rules
// (a full one, or one with changes) or failed to; the sync ended at the
// line's time and began took earlier.
var ruleWriteLine = regexp.MustCompile(`(?m)^[IE](\d{4} \d{2}:\d{2}:\d{2}\.\d{6}) .*(?:"Synced" family="IPv4" (?:full=true|full=false changed=[1-9]\d*)|"Sync failed; the next one will be full" .*family="IPv4").*$`)

// tookField is the duration of a "Synced" line.
var tookField = regexp.MustCompile(`took="([^"]+)"`)

// maxLossShare is the share of a loop's attempts that may be excused: far
// above the measured loss, far below what a broken rule costs.
const maxLossShare = 0.01

// ruleWrites returns the spans in which kproxy wrote (or tried to write)
// IPv4 rules, from its log.
func (k *KProxy) ruleWrites() [][2]time.Time {
	var spans [][2]time.Time
	year := time.Now().Year()
	for _, m := range ruleWriteLine.FindAllStringSubmatch(k.Process.Log(), -1) {
		end, err := time.ParseInLocation("2006 0102 15:04:05.000000", strconv.Itoa(year)+" "+m[1], time.Local)
		if err != nil {
			continue
		}
		took := time.Second // a failed sync: assume the longest
		if t := tookField.FindStringSubmatch(m[0]); t != nil {
			if d, err := time.ParseDuration(t[1]); err == nil {
				took = d
			}
		}
		spans = append(spans, [2]time.Time{end.Add(-took), end})
	}
	return spans
}

// ExcuseNetworkLosses marks as Excused the failures of atts that kproxy
// cannot have caused, connections that timed out either
//   - while its rules stood still: no sync wrote rules from 1 s before the
//     attempt to its end, or
//   - in a short isolated burst, the shape of the kernel's loss: at most
//     burstMax failures within burstSpan, and no other failure within
//     burstQuiet before or after. kproxy writes each family's rules in one
//     atomic restore, so it cannot open a gap that short; a wrong rule it
//     wrote fails the connections it catches until it is rewritten, a second
//     or more, which is not a short burst.
//
// When more than 1% of the attempts would be excused, none is: something
// else is wrong. In the userspace mode kproxy carries the traffic itself, so
// nothing is excused. It logs what it excused.
func (k *KProxy) ExcuseNetworkLosses(t testing.TB, atts []Attempt) []Attempt {
	t.Helper()
	out := append([]Attempt(nil), atts...)
	if k.Mode == "userspace" {
		return out
	}
	writes := k.ruleWrites()
	bursts := shortBursts(out)
	var excused []int
	for i, a := range out {
		if a.Pod != "" || !strings.Contains(a.Failure, "i/o timeout") {
			continue
		}
		if bursts[i] || !overlaps(writes, a.At.Add(-time.Second), a.At.Add(LoopAttemptTimeout)) {
			excused = append(excused, i)
		}
	}
	if len(excused) == 0 {
		return out
	}
	if float64(len(excused)) > maxLossShare*float64(len(out)) {
		t.Logf("%d of %d connections timed out in short bursts or while kproxy's rules stood still: too many to blame the test network", len(excused), len(out))
		return out
	}
	for _, i := range excused {
		out[i].Excused = true
	}
	t.Logf("%d of %d connections timed out in short bursts or while kproxy's rules stood still (first at %s): lost in the test network, not counted as failed",
		len(excused), len(out), out[excused[0]].At.Format("15:04:05.000"))
	return out
}

// The shape of a burst of the kernel's loss (see ExcuseNetworkLosses).
const (
	burstMax   = 5
	burstSpan  = time.Second
	burstQuiet = time.Second
)

// shortBursts returns the indexes of the failed attempts (atts in start
// order) that belong to a short isolated burst: at most burstMax failures
// within burstSpan, with no other failure within burstQuiet of it.
func shortBursts(atts []Attempt) map[int]bool {
	var failed []int
	for i, a := range atts {
		if a.Pod == "" {
			failed = append(failed, i)
		}
	}
	in := map[int]bool{}
	for lo := 0; lo < len(failed); {
		hi := lo
		for hi+1 < len(failed) && atts[failed[hi+1]].At.Sub(atts[failed[hi]].At) < burstQuiet {
			hi++
		}
		first, last := atts[failed[lo]].At, atts[failed[hi]].At
		if hi-lo+1 <= burstMax && last.Sub(first) <= burstSpan {
			for _, i := range failed[lo : hi+1] {
				in[i] = true
			}
		}
		lo = hi + 1
	}
	return in
}

// overlaps tells whether any span intersects [from, to].
func overlaps(spans [][2]time.Time, from, to time.Time) bool {
	for _, s := range spans {
		if !s[1].Before(from) && !s[0].After(to) {
			return true
		}
	}
	return false
}
