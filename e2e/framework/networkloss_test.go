package framework

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestExcuseNetworkLosses checks which timed-out connections are excused:
// only those during which kproxy wrote no rules, and none when they are too
// many.
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
	many := func(n int, a Attempt) []Attempt {
		var atts []Attempt
		for range n {
			atts = append(atts, ok("10:00:10.000"))
		}
		return append(atts, a)
	}
	tests := []struct {
		name string
		atts []Attempt
		want bool // whether the last attempt is excused
	}{
		{"timeout while the rules stood still", many(200, lost("10:00:20.000", timeout)), true},
		{"timeout during a sync that wrote nothing", many(200, lost("10:00:29.999", timeout)), true},
		{"timeout within a second after a sync that wrote rules", many(200, lost("10:00:00.900", timeout)), false},
		{"timeout whose connection a later sync overlapped", many(200, lost("10:00:58.000", timeout)), false},
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
			last := got[len(got)-1]
			if last.Excused != tt.want {
				t.Errorf("excused = %v, want %v", last.Excused, tt.want)
			}
			tally := TallyOf(got, time.Time{}, time.Time{})
			if wantFailed := map[bool]int{true: 0, false: 1}[tt.want]; tally.Failed != wantFailed || tally.Lost != 1-wantFailed {
				t.Errorf("tally %s: want %d failed", tally, wantFailed)
			}
		})
	}
}
