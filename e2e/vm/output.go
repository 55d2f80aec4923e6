package vm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Lines /init writes around the script's output on the output port.
const (
	readyMarker = "KPROXY-VM-READY"
	exitMarker  = "KPROXY-VM-EXIT"
	// ResultPrefix marks lines a script reports results on; see Results.
	ResultPrefix = "KPROXY-RESULT "
)

// readOutput reads the output log.
func (v *VM) readOutput() (out string, code int, finished bool) {
	b, _ := os.ReadFile(filepath.Join(v.Dir, "output.log"))
	return parseOutput(string(b))
}

// parseOutput extracts the script's output from the output port's text:
// the lines after the ready marker, up to the exit marker, which also
// carries the exit status. Carriage returns a tty may add are dropped.
func parseOutput(raw string) (out string, code int, finished bool) {
	raw = strings.ReplaceAll(raw, "\r", "")
	_, body, ok := strings.Cut(raw, readyMarker)
	if !ok {
		return "", 0, false
	}
	if _, rest, ok := strings.Cut(body, "\n"); ok {
		body = rest
	} else {
		body = ""
	}
	i := strings.LastIndex(body, exitMarker+" ")
	if i < 0 {
		return body, 0, false
	}
	fields := strings.Fields(body[i+len(exitMarker):])
	if len(fields) == 0 {
		return body[:i], 0, false
	}
	code, err := strconv.Atoi(fields[0])
	if err != nil {
		return body[:i], 0, false
	}
	return body[:i], code, true
}

// Results returns the lines of output that start with ResultPrefix, with
// the prefix removed: what a script reports, apart from its chatter.
func Results(output string) []string {
	var res []string
	for _, line := range strings.Split(output, "\n") {
		if r, ok := strings.CutPrefix(line, ResultPrefix); ok {
			res = append(res, r)
		}
	}
	return res
}
