// Command kpguest is a helper the IPVS e2e tests run inside their VM, next
// to busybox and e2e/echo. Built static (CGO_ENABLED=0).
//
//	kpguest hold 10.96.100.13:80      # keep one connection open (see hold)
//	kpguest elapsed ipvsadm -d ...    # run a command, print its wall time
//	kpguest swap VIP:80 OLD:80 NEW:80 # replace a real server, timing each call
//	kpguest udpwatch VIP:53 30        # one UDP client port: which pod answers, when
//	kpguest loop 10.96.100.40:80 10    # 10 connections/s until SIGTERM (see loop)
//	kpguest trace 10.96.100.50:80 50   # the same, every connection printed (see trace)
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches to a subcommand and returns the exit code.
func run(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kpguest hold IP:PORT | elapsed COMMAND [ARG...] | swap VIP:PORT OLD:PORT NEW:PORT | udpwatch IP:PORT SECONDS | loop IP:PORT RATE")
		return 2
	}
	switch args[0] {
	case "hold":
		return hold(args[1], os.Stdout)
	case "elapsed":
		return elapsed(args[1:], os.Stdout)
	case "swap":
		return swap(args[1:], os.Stdout)
	case "udpwatch":
		return udpwatch(args[1:], os.Stdout)
	case "loop":
		return loop(args[1:], os.Stdout)
	case "trace":
		return trace(args[1:], os.Stdout)
	}
	fmt.Fprintf(os.Stderr, "kpguest: unknown subcommand %q\n", args[0])
	return 2
}
