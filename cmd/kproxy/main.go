// Command kproxy is a drop-in replacement for kube-proxy: it watches Services and
// EndpointSlices and programs the node's kernel with the mode chosen by --proxy-mode.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kproxy/kproxy/cmd/kproxy/app"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses args and returns the process exit code.
func run(args []string) int {
	o, err := app.Parse(args)
	if errors.Is(err, app.ErrHelp) {
		app.Usage(os.Stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kproxy: %v\n", err)
		return 1
	}
	if o.ShowVersion {
		fmt.Println(app.Version())
		return 0
	}
	if o.WriteConfigTo != "" {
		if err := o.WriteConfig(); err != nil {
			fmt.Fprintf(os.Stderr, "kproxy: %v\n", err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "kproxy: %v\n", err)
		return 1
	}
	return 0
}
