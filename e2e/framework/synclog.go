package framework

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// kproxy's log lines about IPv4 syncs (proxy.Syncer), whatever the mode.
var (
	failedSyncLine = regexp.MustCompile(`"Sync failed; the next one will be full" err=.* family="IPv4"`)
	syncedLine     = regexp.MustCompile(`"Synced" family="IPv4" full=(true|false)`)
)

// CheckFailedSyncs checks kproxy's log from offset from on, where injected
// failures began, with CheckFailedSyncLog. The line of the sync after the
// failures may come a little after its rules worked: it waits a few seconds
// for it.
func (k *KProxy) CheckFailedSyncs(t testing.TB, from int, failures float64) {
	t.Helper()
	var log string
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		log = k.Process.Log()[from:]
		if syncAfterFailures(log) != nil {
			break
		}
	}
	CheckFailedSyncLog(t, log, failures)
}

// CheckFailedSyncLog checks a kproxy log written while injected failures
// happened: one "Sync failed" line for IPv4 per counted failure (failures),
// each naming the injected failure (a message holding "injected failure"),
// and a full IPv4 sync after the last of them.
func CheckFailedSyncLog(t testing.TB, log string, failures float64) {
	t.Helper()
	if next := syncAfterFailures(log); next == nil || next[1] != "true" {
		t.Errorf("the first IPv4 sync after the failures was not full: %v", next)
	}
	lines := failedSyncLine.FindAllString(log, -1)
	t.Logf("%v IPv4 sync failures counted, %d logged", failures, len(lines))
	if float64(len(lines)) != failures {
		t.Errorf("kproxy logged %d failed IPv4 syncs, counted %v", len(lines), failures)
	}
	for _, l := range lines {
		if !strings.Contains(l, "injected failure") {
			t.Errorf("a failed sync's log line does not say why: %s", l)
		}
	}
}

// syncAfterFailures finds the first IPv4 "Synced" line after the last
// "Sync failed" line of log (its submatches: full or not), nil if none.
func syncAfterFailures(log string) []string {
	last := strings.LastIndex(log, `"Sync failed; the next one will be full"`)
	return syncedLine.FindStringSubmatch(log[max(last, 0):])
}
