// Command kbench measures kproxy's iptables mode against the real kernel at
// 10,000 services × 10 endpoints. Every subcommand that touches iptables re-runs
// itself under "unshare --net", so it only ever changes the rules of a network
// namespace that exists for that one measurement.
//
//	kbench payload -o FILE            write the full-sync payload (no kernel)
//	kbench full -variant nft|legacy   time a first full sync and a second one over it
//	kbench restore -variant V FILE    time a plain iptables-restore --noflush of FILE
//	kbench partial -variant V -n 50   time n one-endpoint syncs
//	kbench rss                        run kcluster and kproxy, read kproxy's memory
//	kbench table RESULTS              print the results as a table with the targets
//
// Measurements print one "name value" line each, the value in seconds unless the
// name says otherwise.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "payload":
		err = runPayload(args)
	case "full", "restore", "partial", "rss":
		err = inNetns(cmd, args)
	case "table":
		err = runTable(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kbench %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kbench payload|full|restore|partial|rss|table [flags]")
	os.Exit(2)
}

// scale are the flags giving the cluster's size.
type scale struct{ services, eps int }

// register adds the size flags to fs.
func (s *scale) register(fs *flag.FlagSet) {
	fs.IntVar(&s.services, "services", 10000, "number of services")
	fs.IntVar(&s.eps, "endpoints", 10, "endpoints per service")
}
