package framework

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestExcuseNetworkLosses checks which timed-out connections are excused:
// those during which kproxy wrote no rules or in a short isolated burst, and
// none when they are too many.
func TestExcuseNetworkLosses(t *testing.T) {
	day := time.Now()
	clock := func(hms string) time.Time {
		c, err := time.ParseInLocation("15:04:05.000", hms, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(day.Year(), day.Month(), day.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.Local)
	}
	stamp := day.Format("0102")
	log := "I" + stamp + ` 10:00:00.000000    1 syncer.go:132] "Synced" family="IPv4" full=true changed=1 services=2 took="20ms"` + "\n" +
		"I" + stamp + ` 10:00:30.000000    1 syncer.go:132] "Synced" family="IPv4" full=false changed=0 services=2 took="20µs"` + "\n" +
		"I" + stamp + ` 10:01:00.500000    1 syncer.go:132] "Synced" family="IPv4" full=false changed=1 services=2 took="30ms"` + "\n" +
		"I" + stamp + ` 10:01:00.600000    1 syncer.go:132] "Synced" family="IPv6" full=false changed=1 services=0 took="5µs"` + "\n"
	timeout := "dial tcp 10.96.0.10:80: i/o timeout"
	ok := func(hms string) Attempt { return Attempt{At: clock(hms), Pod: "web-1"} }
	lost := func(hms, why string) Attempt { return Attempt{At: clock(hms), Failure: why} }
	many := func(n int, fails ...Attempt) []Attempt {
		var atts []Attempt
		for range n {
			atts = append(atts, ok("10:00:10.000"))
		}
		return append(atts, fails...)
	}
	every := func(n int, from string, gap time.Duration, why string) []Attempt {
		var fails []Attempt
		for i := range n {
			fails = append(fails, Attempt{At: clock(from).Add(time.Duration(i) * gap), Failure: why})
		}
		return fails
	}
	tests := []struct {
		name string
		atts []Attempt
		want bool // whether the failures are excused
	}{
		{"timeout while the rules stood still", many(200, lost("10:00:20.000", timeout)), true},
		{"timeout during a sync that wrote nothing", many(200, lost("10:00:29.999", timeout)), true},
		{"short burst just before a sync that wrote rules", many(400, every(3, "10:00:58.000", 100*time.Millisecond, timeout)...), true},
		{"a wrong rule's shape: 6 timeouts in 0.5 s just before a sync", many(800, every(6, "10:00:58.000", 100*time.Millisecond, timeout)...), false},
		{"timeouts spread over 1.8 s just before a sync", many(400, every(3, "10:00:58.000", 900*time.Millisecond, timeout)...), false},
		{"refused, not lost", many(200, lost("10:00:20.000", "dial tcp 10.96.0.10:80: connect: connection refused")), false},
		{"too many timeouts to excuse", many(50, lost("10:00:20.000", timeout)), false},
	}
	dir := t.TempDir()
	k := &KProxy{Process: &Process{LogPath: filepath.Join(dir, "kproxy.log")}}
	if err := os.WriteFile(k.Process.LogPath, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := k.ExcuseNetworkLosses(t, tt.atts)
			fails := 0
			for _, a := range got {
				if a.Pod == "" {
					fails++
					if a.Excused != tt.want {
						t.Errorf("failure at %s: excused = %v, want %v", a.At.Format("15:04:05.000"), a.Excused, tt.want)
					}
				}
			}
			tally := TallyOf(got, time.Time{}, time.Time{})
			if wantFailed := map[bool]int{true: 0, false: fails}[tt.want]; tally.Failed != wantFailed || tally.Lost != fails-wantFailed {
				t.Errorf("tally %s: want %d failed", tally, wantFailed)
			}
		})
	}
}
