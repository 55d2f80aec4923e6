package framework

import (
	"os"
	"os/signal"
	"syscall"
)

// watchSignals tears the cluster down when the test process gets SIGINT or
// SIGTERM (Ctrl-C), then re-raises the signal. Every live cluster of the
// process has its own watcher; once the last one has stopped listening, the
// re-raised signal ends the process as it would have without them. The
// returned function stops watching (teardown calls it).
func (c *Cluster) watchSignals() (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			c.t.Logf("e2e: %v: tearing down cluster %s", sig, c.Prefix)
			c.teardown()
			signal.Stop(sigs)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		case <-done:
			signal.Stop(sigs)
		}
	}()
	return func() { close(done) }
}
