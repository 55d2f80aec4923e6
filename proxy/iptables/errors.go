package iptables

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// RestoreError reports a failed iptables-restore. The kernel applies each
// table section (up to its COMMIT) atomically, so the section holding Line
// left no trace; sections committed before it did apply.
type RestoreError struct {
	// Command is the binary that failed, such as "iptables-nft-restore".
	Command string
	// ExitCode is its exit status.
	ExitCode int
	// Line is the 1-based payload line to blame, 0 when unknown.
	Line int
	// Rule is the text of that line.
	Rule string
	// Output is the tool's own message, trimmed.
	Output string
}

// Error names the command, the failing line and the tool's message.
func (e *RestoreError) Error() string {
	var b strings.Builder
	b.WriteString(e.Command)
	b.WriteString(" failed")
	if e.Line > 0 {
		b.WriteString(" at line ")
		b.WriteString(strconv.Itoa(e.Line))
		if e.Rule != "" {
			b.WriteString(" (")
			b.WriteString(strconv.Quote(e.Rule))
			b.WriteByte(')')
		}
	}
	if e.Output != "" {
		b.WriteString(": ")
		b.WriteString(e.Output)
	}
	return b.String()
}

// lineRE finds the line number in the messages of both variants:
// "line 5 failed", "line 5: CHAIN_DEL failed", "Error occurred at line: 5",
// "COMMIT expected at line 5".
var lineRE = regexp.MustCompile(`line:? ([0-9]+)`)

// missingChainRE finds the chain nft's restore reports at COMMIT time.
var missingChainRE = regexp.MustCompile(`Chain '([^']+)' does not exist`)

// newRestoreError builds the error for a failed run from the tool's output
// and the payload it was given.
func newRestoreError(command string, exitCode int, output, payload []byte) *RestoreError {
	e := &RestoreError{Command: command, ExitCode: exitCode, Output: tidyOutput(output)}
	m := lineRE.FindSubmatch(output)
	if m == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(string(m[1]))
	e.Rule = payloadLine(payload, e.Line)
	// iptables-nft-restore blames the COMMIT line for a jump to a missing
	// chain; point at the rule that jumps there instead.
	if c := missingChainRE.FindSubmatch(output); c != nil && !strings.Contains(e.Rule, string(c[1])) {
		if n := lastJumpTo(payload, e.Line, string(c[1])); n > 0 {
			e.Line, e.Rule = n, payloadLine(payload, n)
		}
	}
	return e
}

// tidyOutput keeps the tool's message without its usage hint and blank lines.
func tidyOutput(out []byte) string {
	var parts []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Try `") {
			continue
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, "; ")
}

// payloadLine returns line n (1-based) of payload, or "".
func payloadLine(payload []byte, n int) string {
	for i := 1; len(payload) > 0; i++ {
		line := payload
		if j := bytes.IndexByte(payload, '\n'); j >= 0 {
			line, payload = payload[:j], payload[j+1:]
		} else {
			payload = nil
		}
		if i == n {
			return string(bytes.TrimSpace(line))
		}
	}
	return ""
}

// lastJumpTo returns the last line before or at limit that jumps or goes to
// chain, or 0.
func lastJumpTo(payload []byte, limit int, chain string) int {
	jump, gotoc := []byte(" -j "+chain), []byte(" -g "+chain)
	found := 0
	for i := 1; len(payload) > 0 && i <= limit; i++ {
		line := payload
		if j := bytes.IndexByte(payload, '\n'); j >= 0 {
			line, payload = payload[:j], payload[j+1:]
		} else {
			payload = nil
		}
		if endsToken(line, jump) || endsToken(line, gotoc) {
			found = i
		}
	}
	return found
}

// endsToken reports whether line holds tok followed by a space or the end.
func endsToken(line, tok []byte) bool {
	for {
		i := bytes.Index(line, tok)
		if i < 0 {
			return false
		}
		rest := line[i+len(tok):]
		if len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r' {
			return true
		}
		line = rest
	}
}
