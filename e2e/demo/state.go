package main

import (
	"strings"
)

// stateExcerpt picks from kproxy's /debug/state the "family" header lines
// and the blocks (a "service <ns>/<name>:<port> ..." line and its endpoint
// lines) of the services keep accepts, given "<ns>/<name>". It returns them
// and the service ports ("<ns>/<name>:<port>") left out.
func stateExcerpt(state string, keep func(service string) bool) (lines, omitted []string) {
	inKept := false
	for _, line := range strings.Split(state, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "family "):
			inKept = false
			lines = append(lines, line)
		case strings.HasPrefix(line, "service "):
			fields := strings.Fields(line)
			port := ""
			if len(fields) > 1 {
				port = fields[1]
			}
			name, _, _ := strings.Cut(port, ":")
			inKept = keep(name)
			if inKept {
				lines = append(lines, line)
			} else {
				omitted = append(omitted, port)
			}
		case inKept:
			lines = append(lines, line)
		}
	}
	return lines, omitted
}
