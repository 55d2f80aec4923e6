// Command kpguest is a helper the IPVS e2e tests run inside their VM, next
// to busybox and e2e/echo. Built static (CGO_ENABLED=0).
//
//	kpguest hold 10.96.100.13:80      # keep one connection open (see hold)
//	kpguest elapsed ipvsadm -d ...    # run a command, print its wall time
//	kpguest swap VIP:80 OLD:80 NEW:80 # replace a real server, timing each call
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
		fmt.Fprintln(os.Stderr, "usage: kpguest hold IP:PORT | elapsed COMMAND [ARG...] | swap VIP:PORT OLD:PORT NEW:PORT")
		return 2
	}
	switch args[0] {
	case "hold":
		return hold(args[1], os.Stdout)
	case "elapsed":
		return elapsed(args[1:], os.Stdout)
	case "swap":
		return swap(args[1:], os.Stdout)
	}
	fmt.Fprintf(os.Stderr, "kpguest: unknown subcommand %q\n", args[0])
	return 2
}
