package proxy_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/fuzzcorpus"
	"github.com/kproxy/kproxy/proxy/proxytest"
)

// fuzzFamilies are the IP families every check runs for.
var fuzzFamilies = []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol}

// FuzzTable plays programs of bad Services and EndpointSlices (see fuzzcorpus)
// through the trackers and Table.Apply. Nothing may panic; every port a Service
// loses must be named in a reported problem; and at every sync, for both families,
// the snapshot only holds entries a backend can program, the anchor service is there
// with all its endpoints, and the table equals a fresh one fed the objects that
// exist now (add→update→delete sequences leave nothing behind).
//
// The seed corpus runs with `go test`; fuzz with `go test -fuzz FuzzTable ./proxy/`.
func FuzzTable(f *testing.F) {
	for _, seed := range fuzzcorpus.Seeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkTableProgram(t, fuzzcorpus.Generate(data))
	})
}

// TestTableRegressions plays the hand-written programs of the bugs FuzzTable found.
func TestTableRegressions(t *testing.T) {
	for name, steps := range fuzzcorpus.Regressions() {
		t.Run(name, func(t *testing.T) { checkTableProgram(t, steps) })
	}
}

// checkTableProgram plays steps into a table and checks it at every sync.
func checkTableProgram(t *testing.T, steps []fuzzcorpus.Step) {
	t.Helper()
	feeder := fuzzcorpus.NewFeeder()
	for i, step := range steps {
		problems := feeder.Feed(step)
		if step.Kind == fuzzcorpus.SetService {
			if err := checkReported(step.Service, problems); err != nil {
				t.Fatalf("step %d (%s): %v", i, step, err)
			}
		}
		if step.Kind != fuzzcorpus.Sync {
			continue
		}
		feeder.Table.Apply()
		fresh := feeder.Fresh()
		for _, family := range fuzzFamilies {
			snap := feeder.Table.Snapshot(family)
			if err := fuzzcorpus.CheckSnapshot(snap); err != nil {
				t.Fatalf("step %d: %s snapshot holds what no backend can program:\n%v", i, family, err)
			}
			if err := fuzzcorpus.CheckAnchor(snap); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if d := fuzzcorpus.Diff(snap, fresh.Table.Snapshot(family)); d != "" {
				t.Fatalf("step %d: %s table differs from a fresh one fed the same objects:\n%s", i, family, d)
			}
		}
	}
}

// checkReported fails when part of a proxied service is left out silently: a port
// missing from a family the service has needs a problem naming it, and a service
// left without any family needs some problem.
func checkReported(svc *v1.Service, problems []string) error {
	if svc.Spec.Type == v1.ServiceTypeExternalName || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == v1.ClusterIPNone {
		return nil
	}
	ports, _ := proxy.ConvertService(svc)
	if len(ports) == 0 && len(svc.Spec.Ports) > 0 && len(problems) == 0 {
		return fmt.Errorf("service %s/%s programs nothing and no problem says why", svc.Namespace, svc.Name)
	}
	for family, kept := range ports {
		for _, p := range svc.Spec.Ports {
			found := slices.ContainsFunc(kept, func(sp proxy.ServicePort) bool { return sp.Name.Port == p.Name })
			named := slices.ContainsFunc(problems, func(pr string) bool { return strings.Contains(pr, strconv.Quote(p.Name)) })
			if !found && !named {
				return fmt.Errorf("port %q of %s/%s left out of %s without a problem naming it (problems: %q)",
					p.Name, svc.Namespace, svc.Name, family, problems)
			}
		}
	}
	return nil
}

// TestInvalidObjectReportedOncePerChange checks that a bad Service or EndpointSlice
// is counted and recorded as a Node event once per change of that object: not at
// every sync, not at every informer resync, and not when another slice of the same
// service changes.
func TestInvalidObjectReportedOncePerChange(t *testing.T) {
	h := newResyncHarness(t, time.Second)
	ctx := context.Background()
	svcs := h.client.CoreV1().Services("ns")
	slices := h.client.DiscoveryV1().EndpointSlices("ns")
	odd := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "odd"},
		Spec: v1.ServiceSpec{ClusterIP: "10.96.0.11", ClusterIPs: []string{"10.96.0.11"},
			Ports: []v1.ServicePort{{Name: "x", Port: 53, Protocol: "ICMP"}, {Name: "dns", Port: 53, Protocol: v1.ProtocolUDP}}},
	}
	oddSlice := func(name string, addrs ...string) *discovery.EndpointSlice {
		s := webSlice(addrs...)
		s.Name, s.Labels[discovery.LabelServiceName] = name, "odd"
		s.Ports[0].Name, s.Ports[0].Protocol = ptr("dns"), ptr(v1.ProtocolUDP)
		return s
	}
	web := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: v1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP}}},
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(svcs.Create(ctx, odd, metav1.CreateOptions{}))
	h.waitReports("bad service created", 1)
	must(slices.Create(ctx, oddSlice("odd-1", "10.0.0.1", "not-an-ip"), metav1.CreateOptions{}))
	h.waitReports("bad slice created", 2)

	// Syncs caused by other objects, by a good sibling slice of the bad one, and
	// informer resyncs report nothing more.
	unrelated := []func() (any, error){
		func() (any, error) { return svcs.Create(ctx, web, metav1.CreateOptions{}) },
		func() (any, error) { return slices.Create(ctx, webSlice("10.0.0.5"), metav1.CreateOptions{}) },
		func() (any, error) { return slices.Update(ctx, webSlice("10.0.0.6"), metav1.UpdateOptions{}) },
		func() (any, error) {
			return slices.Create(ctx, oddSlice("odd-2", "10.0.0.2"), metav1.CreateOptions{})
		},
		func() (any, error) {
			return slices.Update(ctx, oddSlice("odd-2", "10.0.0.3"), metav1.UpdateOptions{})
		},
	}
	for i, change := range unrelated {
		syncs := h.metric("kubeproxy_sync_proxy_rules_duration_seconds")
		must(change())
		waitFor(t, fmt.Sprintf("sync after unrelated change %d", i), func() bool {
			return h.metric("kubeproxy_sync_proxy_rules_duration_seconds") > syncs
		})
	}
	time.Sleep(2500 * time.Millisecond) // two informer resyncs
	if got := h.metric("kubeproxy_invalid_objects_total"); got != 2 {
		t.Fatalf("after syncs and resyncs, invalid objects counted %v times, want 2", got)
	}

	// Another bad change of the service is one more report.
	odd.Spec.Ports[0].Protocol = "GRE"
	must(svcs.Update(ctx, odd, metav1.UpdateOptions{}))
	h.waitReports("bad service changed", 3)
	h.waitEvent(proxy.ReasonInvalidObject, `Service ns/odd: port "x" has unknown protocol "GRE"`)
}

// newResyncHarness is newHarness with informers resyncing every resync.
func newResyncHarness(t *testing.T, resync time.Duration) *harness {
	h := &harness{t: t, client: fake.NewClientset(), backend: proxytest.NewBackend(), reg: prometheus.NewRegistry()}
	h.server = proxy.NewServer(proxy.Config{
		Client:           h.client,
		NodeName:         "node-a",
		Backends:         []proxy.FamilyBackend{{Family: v1.IPv4Protocol, Backend: h.backend}},
		MinSyncPeriod:    5 * time.Millisecond,
		SyncPeriod:       time.Minute,
		ConfigSyncPeriod: resync,
		Registry:         h.reg,
	})
	h.debug = httptest.NewServer(h.server.MetricsHandler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.server.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		h.debug.Close()
	})
	return h
}

// waitReports waits until the invalid-object metric and the KproxyInvalidObject
// events on the Node (counting repeats the event recorder folded into one) both
// reach want, then fails if either went past it.
func (h *harness) waitReports(step string, want int) {
	h.t.Helper()
	waitFor(h.t, step+": reports", func() bool {
		return h.metric("kubeproxy_invalid_objects_total") >= float64(want) && h.invalidEvents() >= want
	})
	if got := h.metric("kubeproxy_invalid_objects_total"); got != float64(want) {
		h.t.Fatalf("%s: invalid objects counted %v times, want %d", step, got, want)
	}
	if got := h.invalidEvents(); got != want {
		h.t.Fatalf("%s: %d invalid-object events, want %d", step, got, want)
	}
}

// invalidEvents counts the KproxyInvalidObject events recorded on node-a.
func (h *harness) invalidEvents() int {
	h.t.Helper()
	events, err := h.client.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, e := range events.Items {
		if e.Reason == proxy.ReasonInvalidObject && e.InvolvedObject.Name == "node-a" {
			n += int(max(e.Count, 1))
		}
	}
	return n
}
