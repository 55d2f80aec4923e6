package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kproxy/kproxy/proxy"
	"github.com/kproxy/kproxy/proxy/proxytest"
)

// harness runs a Server against client-go's fake clientset.
type harness struct {
	t       *testing.T
	client  *fake.Clientset
	backend *proxytest.Backend
	reg     *prometheus.Registry
	server  *proxy.Server
	debug   *httptest.Server
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, client: fake.NewClientset(), backend: proxytest.NewBackend(), reg: prometheus.NewRegistry()}
	h.server = proxy.NewServer(proxy.Config{
		Client:        h.client,
		NodeName:      "node-a",
		Backends:      []proxy.FamilyBackend{{Family: v1.IPv4Protocol, Backend: h.backend}},
		MinSyncPeriod: 5 * time.Millisecond,
		SyncPeriod:    time.Minute,
		Registry:      h.reg,
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

// get fetches a path from the metrics listener.
func (h *harness) get(path string) string {
	resp, err := http.Get(h.debug.URL + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// waitState waits until /debug/state and the fake backend show want.
func (h *harness) waitState(step string, want []string, absent []string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		state := h.get("/debug/state")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(state, w)
		}
		for _, a := range absent {
			ok = ok && !strings.Contains(state, a)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: /debug/state never matched.\nwant %q, absent %q\ngot:\n%s", step, want, absent, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric sums a metric over its labels (histograms: their sample count).
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return total
}

func TestServerFollowsAPIObjects(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svcs := h.client.CoreV1().Services("ns")
	slices := h.client.DiscoveryV1().EndpointSlices("ns")

	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: v1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"}, Type: v1.ServiceTypeClusterIP,
			Ports: []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP}}},
	}
	steps := []struct {
		name   string
		do     func() error
		want   []string
		absent []string
	}{
		{
			name: "service created",
			do:   func() error { _, err := svcs.Create(ctx, svc, metav1.CreateOptions{}); return err },
			want: []string{"service ns/web:http TCP 10.96.0.10:80\n"},
		},
		{
			name: "slice created",
			do: func() error {
				_, err := slices.Create(ctx, webSlice("10.0.0.1", "10.0.0.2"), metav1.CreateOptions{})
				return err
			},
			want: []string{"endpoint 10.0.0.1:8080 ready serving node=node-b selected=cluster", "endpoint 10.0.0.2:8080"},
		},
		{
			name: "slice updated: one endpoint replaced, one terminating",
			do: func() error {
				s := webSlice("10.0.0.2", "10.0.0.3")
				s.Endpoints[0].Conditions = discovery.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}
				_, err := slices.Update(ctx, s, metav1.UpdateOptions{})
				return err
			},
			want:   []string{"endpoint 10.0.0.2:8080 serving terminating node=node-b\n", "endpoint 10.0.0.3:8080 ready serving node=node-b selected=cluster"},
			absent: []string{"10.0.0.1:8080"},
		},
		{
			name:   "slice deleted",
			do:     func() error { return slices.Delete(ctx, "web-1", metav1.DeleteOptions{}) },
			want:   []string{"service ns/web:http TCP 10.96.0.10:80\n"},
			absent: []string{"endpoint"},
		},
		{
			name:   "service deleted",
			do:     func() error { return svcs.Delete(ctx, "web", metav1.DeleteOptions{}) },
			want:   []string{"family IPv4 node node-a"},
			absent: []string{"ns/web"},
		},
	}
	syncs := 0.0
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		h.waitState(step.name, step.want, step.absent)
		waitFor(t, step.name+": sync counted", func() bool { return h.metric("kubeproxy_sync_proxy_rules_duration_seconds") > syncs })
		syncs = h.metric("kubeproxy_sync_proxy_rules_duration_seconds")
		if got := h.metric("kubeproxy_sync_proxy_rules_service_changes_total") + h.metric("kubeproxy_sync_proxy_rules_endpoint_changes_total"); got < float64(i+1) {
			t.Errorf("%s: changes_total = %v, want ≥ %d", step.name, got, i+1)
		}
		if got := h.metric("kubeproxy_sync_proxy_rules_last_timestamp_seconds"); got == 0 {
			t.Errorf("%s: last sync timestamp not set", step.name)
		}
	}
	if dump := h.backend.Dump(); dump != "" {
		t.Errorf("backend still holds rules after everything was deleted:\n%s", dump)
	}
	if full := h.backend.Syncs(); len(full) == 0 || !full[0] || full[len(full)-1] {
		t.Errorf("sync kinds = %v, want a full first sync and partial ones after", full)
	}
}

func TestServerRetriesFailedSyncInFull(t *testing.T) {
	h := newHarness(t)
	h.backend.FailNext(2)
	ctx := context.Background()
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: v1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP}}},
	}
	if _, err := h.client.CoreV1().Services("ns").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DiscoveryV1().EndpointSlices("ns").Create(ctx, webSlice("10.0.0.1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The runner retries after a backoff of at least a second.
	waitFor(t, "backend programmed after failures", func() bool { return strings.Contains(h.backend.Dump(), "10.0.0.1:8080") })
	if got := h.metric("kubeproxy_sync_proxy_rules_failures_total"); got != 2 {
		t.Errorf("failed syncs counted = %v, want 2", got)
	}
	if got := h.backend.Syncs(); !got[0] {
		t.Errorf("first successful sync after failures was not full: %v", got)
	}
}

func TestServerCountsInvalidObjects(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	bad := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "odd"},
		Spec: v1.ServiceSpec{ClusterIP: "10.96.0.11", ClusterIPs: []string{"10.96.0.11"},
			Ports: []v1.ServicePort{{Name: "x", Port: 53, Protocol: "ICMP"}, {Name: "dns", Port: 53, Protocol: v1.ProtocolUDP}}},
	}
	if _, err := h.client.CoreV1().Services("ns").Create(ctx, bad, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitState("valid port of invalid service kept", []string{"service ns/odd:dns UDP 10.96.0.11:53"}, []string{"ns/odd:x"})
	if got := h.metric("kubeproxy_invalid_objects_total"); got != 1 {
		t.Errorf("invalid objects counted = %v, want 1", got)
	}
	h.waitEvent(proxy.ReasonInvalidObject, `Service ns/odd: port "x" has unknown protocol "ICMP"`)
}

func TestServerRecordsEventWhenSyncsKeepFailing(t *testing.T) {
	h := newHarness(t)
	h.backend.FailNext(3)
	h.waitEvent(proxy.ReasonSyncFailing, "3 syncs in a row failed")
}

// waitEvent waits for an event on node-a with reason and a message containing text.
func (h *harness) waitEvent(reason, text string) {
	h.t.Helper()
	waitFor(h.t, "event "+reason, func() bool {
		events, err := h.client.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			h.t.Fatal(err)
		}
		for _, e := range events.Items {
			if e.Reason == reason && e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == "node-a" && strings.Contains(e.Message, text) {
				return true
			}
		}
		return false
	})
}

// webSlice is the slice "web-1" of ns/web with ready endpoints on node-b, port http 8080.
func webSlice(addrs ...string) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1",
			Labels: map[string]string{discovery.LabelServiceName: "web"}},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080)), Protocol: ptr(v1.ProtocolTCP)}},
	}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{Addresses: []string{a}, NodeName: ptr("node-b"),
			Conditions: discovery.EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)}})
	}
	return s
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
