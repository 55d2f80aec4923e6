package app

import (
	"fmt"
	"io"
	"runtime/debug"
)

// Usage writes kproxy's help text, with every flag and its default, to w.
func Usage(w io.Writer) {
	fs := newFlagSet(newDefaultOptions())
	fmt.Fprintf(w, "Usage: %s [flags]\n\n", programName)
	fmt.Fprintf(w, "%s is a drop-in replacement for kube-proxy (iptables, ipvs and userspace modes).\n", programName)
	fmt.Fprintf(w, "Flags given on the command line override the --config file.\n\nFlags:\n")
	fmt.Fprint(w, fs.FlagUsages())
}

// Version returns "kproxy <version>", the version being the main module's
// version recorded at build time ("(devel)" for a plain go build).
func Version() string {
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	return programName + " " + version
}
