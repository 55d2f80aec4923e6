package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// Objects the admin creates for the ServiceAccount to read.
const (
	fixtureNode    = "kpdeploy-node"
	fixtureService = "kpdeploy-web"
	fixtureNS      = "default"
)

// createFixtures creates a Node, a Service and its EndpointSlice as admin and
// deletes them when the test ends.
func createFixtures(ctx context.Context, t *testing.T, admin kubernetes.Interface) {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fixtureNode}}
	if _, err := admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node: %v", err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Nodes().Delete(context.Background(), fixtureNode, metav1.DeleteOptions{}) })
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: fixtureService, Namespace: fixtureNS},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	}
	if _, err := admin.CoreV1().Services(fixtureNS).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.CoreV1().Services(fixtureNS).Delete(context.Background(), fixtureService, metav1.DeleteOptions{})
	})
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: fixtureService + "-1", Namespace: fixtureNS,
			Labels: map[string]string{discoveryv1.LabelServiceName: fixtureService}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.2"}, NodeName: ptr.To(fixtureNode)}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if _, err := admin.DiscoveryV1().EndpointSlices(fixtureNS).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create endpointslice: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.DiscoveryV1().EndpointSlices(fixtureNS).Delete(context.Background(), slice.Name, metav1.DeleteOptions{})
	})
}

// checkReads makes kproxy's own reads with the ServiceAccount's client: the
// lists its informers start with (the Node one by name, as kproxy does) and a
// watch.
func checkReads(ctx context.Context, t *testing.T, sa kubernetes.Interface) {
	t.Helper()
	svcs, err := sa.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil || !hasName(len(svcs.Items), func(i int) string { return svcs.Items[i].Name }, fixtureService) {
		t.Errorf("list services in every namespace: err=%v, want %s among them", err, fixtureService)
	}
	slices, err := sa.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil || !hasName(len(slices.Items), func(i int) string { return slices.Items[i].Name }, fixtureService+"-1") {
		t.Errorf("list endpointslices in every namespace: err=%v, want %s-1 among them", err, fixtureService)
	}
	nodes, err := sa.CoreV1().Nodes().List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", fixtureNode).String()})
	if err != nil || len(nodes.Items) != 1 {
		t.Errorf("list nodes by name: err=%v, want exactly %s", err, fixtureNode)
	}
	w, err := sa.CoreV1().Services("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch services: %v", err)
	}
	defer w.Stop()
	if !sawAdded(w, fixtureService, 10*time.Second) {
		t.Errorf("watch services: no ADDED event for %s", fixtureService)
	}
}

// hasName reports whether one of n items is called name.
func hasName(n int, nameOf func(int) string, name string) bool {
	for i := range n {
		if nameOf(i) == name {
			return true
		}
	}
	return false
}

// sawAdded waits for an ADDED event of the named object.
func sawAdded(w watch.Interface, name string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false
			}
			if m, isMeta := ev.Object.(metav1.Object); isMeta && ev.Type == watch.Added && m.GetName() == name {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// checkEventWrites records and updates an event about the Node in both event
// APIs, as kproxy's recorder does.
func checkEventWrites(ctx context.Context, t *testing.T, sa, admin kubernetes.Interface) {
	t.Helper()
	now := metav1.Now()
	core := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: "kpdeploy-", Namespace: fixtureNS},
		InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: fixtureNode, UID: types.UID(fixtureNode)},
		Reason:         "SyncFailing", Message: "e2e", Type: corev1.EventTypeWarning, Count: 1,
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kproxy", Host: fixtureNode},
	}
	got, err := sa.CoreV1().Events(fixtureNS).Create(ctx, core, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create core event: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.CoreV1().Events(fixtureNS).Delete(context.Background(), got.Name, metav1.DeleteOptions{})
	})
	if _, err := sa.CoreV1().Events(fixtureNS).Patch(ctx, got.Name, types.MergePatchType, []byte(`{"count":2}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("patch core event: %v", err)
	}
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "kpdeploy-", Namespace: fixtureNS},
		EventTime:  metav1.NowMicro(), ReportingController: "kproxy.io/kproxy", ReportingInstance: "kproxy-" + fixtureNode,
		Action: "Sync", Reason: "SyncFailing", Type: corev1.EventTypeWarning, Note: "e2e",
		Regarding: corev1.ObjectReference{Kind: "Node", Name: fixtureNode},
	}
	gotV1, err := sa.EventsV1().Events(fixtureNS).Create(ctx, ev, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create events.k8s.io event: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.EventsV1().Events(fixtureNS).Delete(context.Background(), gotV1.Name, metav1.DeleteOptions{})
	})
	// The events API allows only the series to change: the recorder patches it
	// when an event repeats.
	series := fmt.Sprintf(`{"series":{"count":2,"lastObservedTime":%q}}`, metav1.NowMicro().Format(metav1.RFC3339Micro))
	if _, err := sa.EventsV1().Events(fixtureNS).Patch(ctx, gotV1.Name, types.MergePatchType, []byte(series), metav1.PatchOptions{}); err != nil {
		t.Errorf("patch events.k8s.io event: %v", err)
	}
}

// checkRefused makes requests kproxy must not be able to make and expects 403.
func checkRefused(ctx context.Context, t *testing.T, sa kubernetes.Interface) {
	t.Helper()
	tests := []struct {
		name string
		do   func() error
	}{
		{"get secret", func() error {
			_, err := sa.CoreV1().Secrets(saNamespace).Get(ctx, "any", metav1.GetOptions{})
			return err
		}},
		{"list secrets", func() error {
			_, err := sa.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
			return err
		}},
		{"list pods", func() error {
			_, err := sa.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			return err
		}},
		{"list configmaps in kube-system", func() error {
			_, err := sa.CoreV1().ConfigMaps(saNamespace).List(ctx, metav1.ListOptions{})
			return err
		}},
		{"delete service", func() error {
			return sa.CoreV1().Services(fixtureNS).Delete(ctx, fixtureService, metav1.DeleteOptions{})
		}},
		{"delete endpointslice", func() error {
			return sa.DiscoveryV1().EndpointSlices(fixtureNS).Delete(ctx, fixtureService+"-1", metav1.DeleteOptions{})
		}},
		{"label node", func() error {
			_, err := sa.CoreV1().Nodes().Patch(ctx, fixtureNode, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !apierrors.IsForbidden(err) {
				t.Errorf("err = %v, want 403 Forbidden", err)
			}
		})
	}
}
