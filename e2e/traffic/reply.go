package traffic

import (
	"fmt"
	"strings"
)

// FormatReply is the echo server's answer: the pod name and the client
// address it saw, separated by one space, without a trailing newline.
func FormatReply(pod, client string) string {
	return pod + " " + client
}

// ParseReply splits an echo reply into the pod name and the client address.
// Trailing whitespace (the TCP reply's newline) is ignored.
func ParseReply(line string) (pod, client string, err error) {
	pod, client, ok := strings.Cut(strings.TrimRight(line, "\r\n\t "), " ")
	if !ok || pod == "" || client == "" || strings.Contains(client, " ") {
		return "", "", fmt.Errorf("not an echo reply: %q", line)
	}
	return pod, client, nil
}
