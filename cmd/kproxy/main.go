// Command kproxy is a drop-in replacement for kube-proxy.
//
// For now it only parses its flags and config file and prints the resolved
// configuration; the proxy itself is wired in later.
package main

import (
	"errors"
	"fmt"
	"os"

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
	return printOptions(o)
}

// printOptions prints the resolved options: kproxy-only settings as YAML
// comments, then the effective KubeProxyConfiguration.
func printOptions(o *app.Options) int {
	data, err := app.MarshalConfig(&o.Config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kproxy: %v\n", err)
		return 1
	}
	minSync, maxSync := o.SyncPeriods()
	fmt.Printf("# nodeName: %s\n# master: %q\n# cleanup: %t\n# udpIdleTimeout: %s\n# syncPeriods: min %s, max %s\n",
		o.NodeName, o.Master, o.Cleanup, o.UDPIdleTimeout, minSync, maxSync)
	os.Stdout.Write(data)
	return 0
}
