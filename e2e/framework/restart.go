package framework

import (
	"strings"
	"testing"
	"time"
)

// StopControlPlane stops kcluster (SIGTERM, then SIGKILL after grace; at
// once when grace is 0) and keeps its data directory, so that
// StartControlPlane brings back the same objects, credentials and resource
// versions: an API server outage as nodes see it. Calling it while the
// control plane is down does nothing.
func (c *Cluster) StopControlPlane(t testing.TB, grace time.Duration) {
	t.Helper()
	c.requireAPI(t)
	for _, p := range c.controlPlanes() {
		if err := p.Stop(grace); err != nil {
			t.Fatalf("e2e: stop control plane: %v", err)
		}
	}
}

// StartControlPlane starts kcluster again on the same data directory and
// waits for its READY line (the apiserver answers /readyz through the
// kubeconfig). Clients built earlier, c.Kube included, keep working: the
// address, CA and token are unchanged. It fails the test when a control
// plane is still running.
func (c *Cluster) StartControlPlane(t testing.TB) {
	t.Helper()
	c.requireAPI(t)
	if running := c.controlPlanes(); len(running) > 0 {
		t.Fatalf("e2e: control plane %s (pid %d) is still running", running[0].Name, running[0].Pid())
	}
	p, err := c.startControlPlane()
	if err != nil {
		t.Fatalf("e2e: restart control plane: %v", err)
	}
	if _, err := p.WaitLine(controlPlaneTimeout); err != nil {
		t.Fatalf("e2e: restart control plane: %v", err)
	}
}

// controlPlanes returns the kcluster processes still running.
func (c *Cluster) controlPlanes() []*Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	var running []*Process
	for _, p := range c.procs {
		if strings.HasPrefix(p.Name, "kcluster") && !p.Exited() {
			running = append(running, p)
		}
	}
	return running
}
