package iptablesmode

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/proxy/packetflow"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/name, or rewrites the file with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./modes/iptables -update)", err)
	}
	if got != string(want) {
		t.Errorf("payload differs from %s (run with -update to accept):\n%s", path, diff(got, string(want)))
	}
}

// TestGolden pins the exact iptables-restore input of a full sync of the standard
// scenario and of a partial sync after adding a service, removing one and
// changing an endpoint. Behaviour is proven by the packet-flow tests; these files
// show operators and reviewers what kproxy writes.
func TestGolden(t *testing.T) {
	family := v1.IPv4Protocol
	s := packetflow.Standard(family, false)
	rec := &recorder{Restorer: newFake(family)}
	be := newTestBackend(t, family, rec, s.Settings)
	mustSync(t, be, s.Snapshot, full)
	checkGolden(t, "full-ipv4.golden", rec.last)

	b := s.Builder
	b.Service(packetflow.NewService("ns35", "new", "172.30.0.99", packetflow.Port("p", v1.ProtocolTCP, 80, 3099)))
	b.Slice(packetflow.NewSlice("ns35", "new", "new-1", family, "p", v1.ProtocolTCP, 80,
		packetflow.Endpoint{IP: "10.0.2.99", Node: packetflow.OtherNode}))
	b.DeleteService("ns2", "svc2")
	b.Slice(packetflow.NewSlice("ns3", "svc3", "svc3-1", family, "p", v1.ProtocolTCP, 80,
		packetflow.Endpoint{IP: "10.0.1.3", Node: packetflow.ThisNode},
		packetflow.Endpoint{IP: "10.0.2.33", Node: packetflow.OtherNode}))
	snap, changes := b.Snapshot(family)
	mustSync(t, be, snap, changes)
	checkGolden(t, "partial-ipv4.golden", rec.last)
}
