package framework

import (
	"regexp"
	"testing"
	"time"
)

// usingVariant matches kproxy's log line naming the iptables variant of the
// IPv4 family (iptables and userspace modes).
var usingVariant = regexp.MustCompile(`"Using iptables" family="IPv4" variant="(\w+)"`)

// IPTablesVariant returns the iptables variant ("nft" or "legacy") kproxy
// chose on its node for IPv4, waiting a little for the log line that says.
func (k *KProxy) IPTablesVariant(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := usingVariant.FindStringSubmatch(k.Process.Log()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never logged its iptables variant; log:\n%s", k.Process.Name, k.Process.LogTail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// IPTablesCmd returns the variant's command, e.g. "iptables-nft-save" for
// ("nft", "save"); an empty suffix gives the rule command.
func IPTablesCmd(variant, suffix string) string {
	cmd := "iptables"
	if variant == "nft" || variant == "legacy" {
		cmd += "-" + variant
	}
	if suffix != "" {
		cmd += "-" + suffix
	}
	return cmd
}
