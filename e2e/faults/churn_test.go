package faultse2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

// TestChurnUnderLoad replaces the 3 pods behind a Service one by one, the
// way a rolling update does (new pod added and ready; old pod marked
// terminating, still serving; old pod stopped and removed), while a pod
// opens 50 connections per second to the Service (framework.RunChurn): no
// connection may fail, each new pod must get traffic and each old pod must
// stop getting new connections once kproxy synced its termination.
func TestChurnUnderLoad(t *testing.T) {
	c := framework.New(t, framework.Options{Nodes: 2})
	node := c.Nodes[0]
	k := c.StartKProxy(t, node, framework.KProxyOptions{})
	current := c.AddPods(t, "old", 3)
	caller := c.AddPod(t, framework.PodSpec{Name: "caller", Node: node})
	svc, addr := createWeb(t, c, current...)
	c.WaitServedBy(t, caller, addr, 10*time.Second, current...)
	c.RunChurn(t, k, caller, addr, svc, current, func(i int) framework.PodSpec {
		return framework.PodSpec{Name: fmt.Sprintf("new-%d", i+1), Node: c.Nodes[i%len(c.Nodes)]}
	})
}
