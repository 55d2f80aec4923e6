package faultse2e

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kproxy/kproxy/e2e/framework"
)

// churnWriter rewrites a Service's endpoints every churnStep: a window of
// four of the pods, sliding by one each time, its first endpoint
// terminating (still serving). Every pod keeps running, so any set of them
// kproxy programs answers.
type churnWriter struct {
	done chan struct{}
	wg   sync.WaitGroup

	writes, failed int // guarded by wg: read after stop
}

// startChurn starts rewriting svc's endpoints over pods.
func startChurn(c *framework.Cluster, svc *corev1.Service, pods []*framework.Pod) *churnWriter {
	w := &churnWriter{done: make(chan struct{})}
	w.wg.Go(func() {
		for i := 0; ; i++ {
			eps := make([]framework.Endpoint, 4)
			for j := range eps {
				eps[j] = framework.Endpoint{Pod: pods[(i+j)%len(pods)]}
			}
			eps[0].State = framework.StateTerminating
			if err := c.TrySetEndpoints(svc, eps...); err != nil {
				w.failed++
			} else {
				w.writes++
			}
			select {
			case <-w.done:
				return
			case <-time.After(churnStep):
			}
		}
	})
	return w
}

// stop ends the churn and returns how many writes succeeded and failed.
func (w *churnWriter) stop() (writes, failed int) {
	close(w.done)
	w.wg.Wait()
	return w.writes, w.failed
}
