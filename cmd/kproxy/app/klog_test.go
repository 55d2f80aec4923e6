package app

import (
	goflag "flag"
	"testing"

	"k8s.io/klog/v2"
)

// klogV reports whether klog logs at verbosity level n.
func klogV(n int) bool {
	return klog.V(klog.Level(n)).Enabled()
}

// resetVerbosity puts klog's global verbosity back to 0, now and at cleanup.
func resetVerbosity(t *testing.T) {
	t.Helper()
	reset := func() {
		fs := goflag.NewFlagSet("reset", goflag.ContinueOnError)
		klog.InitFlags(fs)
		if err := fs.Set("v", "0"); err != nil {
			t.Fatal(err)
		}
	}
	reset()
	t.Cleanup(reset)
}
