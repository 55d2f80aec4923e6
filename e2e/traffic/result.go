package traffic

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxErrors bounds how many distinct error messages a Result keeps.
const maxErrors = 5

// Result tallies the attempts of one probe.
type Result struct {
	// Sent is the number of attempts made.
	Sent int `json:"sent"`
	// Pods counts answers per answering pod.
	Pods map[string]int `json:"pods"`
	// Clients counts answers per client IP (without the port) as the
	// answering pod saw it: the probe's own address, or a node's when the
	// traffic was masqueraded.
	Clients map[string]int `json:"clients"`
	// Refused counts connections refused (TCP RST to the SYN, ICMP port
	// unreachable for UDP, or an ICMP reject).
	Refused int `json:"refused"`
	// TimedOut counts attempts that got no answer within the timeout.
	TimedOut int `json:"timedOut"`
	// DialTimedOut counts those of TimedOut whose handshake never
	// completed: no SYN-ACK came back.
	DialTimedOut int `json:"dialTimedOut"`
	// Reset counts connections reset after they were established.
	Reset int `json:"reset"`
	// Other counts every other failure: unreachable, closed without an
	// answer, a malformed reply.
	Other int `json:"other"`
	// Errors holds a few distinct failure messages, for the test log.
	Errors []string `json:"errors,omitempty"`
}

// Answered is the number of attempts that got an echo reply.
func (r *Result) Answered() int {
	n := 0
	for _, c := range r.Pods {
		n += c
	}
	return n
}

// Failed is the number of attempts that got no echo reply.
func (r *Result) Failed() int {
	return r.Refused + r.TimedOut + r.Reset + r.Other
}

// PodNames returns the answering pods, sorted.
func (r *Result) PodNames() []string {
	return slices.Sorted(maps.Keys(r.Pods))
}

// ClientIPs returns the client IPs the pods saw, sorted.
func (r *Result) ClientIPs() []string {
	return slices.Sorted(maps.Keys(r.Clients))
}

// String summarises the result on one line, e.g.
// "600 sent: pod-a=301 pod-b=299; clients 10.244.1.2=600; refused 0 ...".
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d sent:", r.Sent)
	for _, p := range r.PodNames() {
		fmt.Fprintf(&b, " %s=%d", p, r.Pods[p])
	}
	b.WriteString("; clients")
	for _, c := range r.ClientIPs() {
		fmt.Fprintf(&b, " %s=%d", c, r.Clients[c])
	}
	fmt.Fprintf(&b, "; refused %d, timed out %d, reset %d, other %d", r.Refused, r.TimedOut, r.Reset, r.Other)
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(r.Errors, "; "))
	}
	return b.String()
}

// add records one attempt's outcome.
func (r *Result) add(o outcome) {
	r.Sent++
	if o.err == nil {
		if r.Pods == nil {
			r.Pods, r.Clients = map[string]int{}, map[string]int{}
		}
		r.Pods[o.pod]++
		r.Clients[o.clientIP]++
		return
	}
	switch classify(o.err) {
	case kindRefused:
		r.Refused++
	case kindTimeout:
		r.TimedOut++
		if isDial(o.err) {
			r.DialTimedOut++
		}
	case kindReset:
		r.Reset++
	default:
		r.Other++
	}
	if msg := o.err.Error(); len(r.Errors) < maxErrors && !slices.Contains(r.Errors, msg) {
		r.Errors = append(r.Errors, msg)
	}
}
