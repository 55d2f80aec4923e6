// Command echo is the e2e tests' pod: a tiny server that answers every TCP
// connection, UDP datagram and HTTP request with its pod name and the client
// address it saw, and a client that sends such traffic and tallies the
// answers. Build it static: CGO_ENABLED=0 go build ./e2e/echo.
//
//	echo serve --name web-1 --tcp :8080 --udp :8080 --http :8081
//	echo client --tcp 10.96.0.10:80 -n 600 --json
//
// TCP: on connect the server writes "<pod> <clientip:port>\n", then echoes
// what it receives. UDP: each datagram gets "<pod> <clientip:port>". HTTP:
// GET / returns the same text with a newline, GET /healthz returns "ok".
// serve prints "READY tcp=<addr> udp=<addr> http=<addr>" on stdout once every
// listener is bound, and exits on SIGTERM or SIGINT.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches to a subcommand and returns the exit code.
func run(args []string) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "client") {
		cmd, args = args[0], args[1:]
	}
	var err error
	if cmd == "client" {
		err = runClient(args, os.Stdout)
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err = runServe(ctx, args, os.Stdout)
		stop()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
