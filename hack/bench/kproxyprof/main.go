// Command kproxyprof is kproxy with Go's profiler: it runs the same app.Run as
// cmd/kproxy and serves net/http/pprof on $KPROXYPROF_ADDR (default
// 127.0.0.1:6060), so the memory of a loaded kproxy can be broken down
// ("go tool pprof http://127.0.0.1:6060/debug/pprof/heap"). kproxy itself accepts
// --profiling but serves no profiles.
package main

import (
	"context"
	"fmt"
	"net/http"
	_ "net/http/pprof" // the profiler's handlers, on the default mux
	"os"
	"os/signal"
	"syscall"

	"github.com/kproxy/kproxy/cmd/kproxy/app"
)

func main() {
	o, err := app.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "kproxyprof: %v\n", err)
		os.Exit(1)
	}
	addr := os.Getenv("KPROXYPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, nil))
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, o); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "kproxyprof: %v\n", err)
		os.Exit(1)
	}
}
