// Command demo is kproxy's demo (`make demo`, hack/demo.sh): a control plane
// and two nodes running kproxy in iptables mode, all in network namespaces
// built by the e2e framework, three Services with real traffic, then the
// rules, metrics and state kproxy shows for them. It exits non-zero when
// traffic does not flow, and removes everything it made on the way out, also
// on failure and on Ctrl-C.
//
// It drives the e2e framework, written for tests, through runner, a small
// testing.TB for main programs. It needs root and the binaries of `make
// binaries`.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/kproxy/kproxy/e2e/framework"
)

func main() {
	verbose := flag.Bool("v", false, "print the e2e framework's log lines as they come")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-v]\n\nRun it with `make demo` (as root).\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "kproxy demo: needs root to create network namespaces; run `sudo make demo`")
		os.Exit(1)
	}
	// Running the demo is consent to build an e2e cluster.
	_ = os.Setenv(framework.EnvEnable, "1")

	out := os.Stdout
	r := newRunner(out, *verbose)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go onSignal(sigs, r, out)

	start := time.Now()
	ok := r.Run(func(t testing.TB) { runDemo(t, newPrinter(out, r.Interrupted)) })
	if r.Interrupted() {
		select {} // onSignal exits once the cleanup is done
	}
	if !ok {
		fmt.Fprintln(out, "\nDEMO FAILED (see the FAIL lines above). KPROXY_E2E_KEEP=1 keeps a failed cluster for inspection.")
		os.Exit(1)
	}
	fmt.Fprintf(out, "\nDemo passed in %s: every Service answered as expected, and nothing is left behind.\n", round(time.Since(start)))
}

// onSignal, at the first SIGINT or SIGTERM, silences the demo, runs the
// cleanups (the framework's teardown among them) and exits with 130.
// Further signals are ignored: the cleanup is bounded by the framework's
// grace periods.
func onSignal(sigs <-chan os.Signal, r *runner, out io.Writer) {
	sig := <-sigs
	r.Interrupt()
	fmt.Fprintf(out, "\n%v: stopping the demo and cleaning up ...\n", sig)
	r.RunCleanups()
	fmt.Fprintln(out, "Interrupted.")
	os.Exit(130)
}
