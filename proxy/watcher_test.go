package proxy

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestWatcherWaitsForHandlers proves WaitForSync returns only once the event handlers
// have seen every listed object, even when they are slow: a sync right after it must
// not program a partial table.
func TestWatcherWaitsForHandlers(t *testing.T) {
	const n = 200
	client := fake.NewClientset()
	for i := range n {
		svc := newTestService(fmt.Sprintf("s%d", i), fmt.Sprintf("10.96.0.%d", i+1))
		if _, err := client.CoreV1().Services("ns").Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	table := NewTable("node-a")
	slowHandler := func(string) { time.Sleep(time.Millisecond) }
	w := NewWatcher(client, table, "node-a", 0, WatchHooks{Event: slowHandler})
	stop := make(chan struct{})
	defer close(stop)
	w.Start(stop)
	if !w.WaitForSync(stop) {
		t.Fatal("never synced")
	}
	if got := table.Services.Pending(); got != n {
		t.Fatalf("after WaitForSync the table has %d of %d listed services", got, n)
	}
}
