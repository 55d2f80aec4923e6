package userspacee2e

import (
	"slices"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// merge adds r's tally to total.
func merge(total *traffic.Result, r traffic.Result) {
	total.Sent += r.Sent
	for p, n := range r.Pods {
		if total.Pods == nil {
			total.Pods, total.Clients = map[string]int{}, map[string]int{}
		}
		total.Pods[p] += n
	}
	for c, n := range r.Clients {
		total.Clients[c] += n
	}
	total.Refused += r.Refused
	total.TimedOut += r.TimedOut
	total.DialTimedOut += r.DialTimedOut
	total.Reset += r.Reset
	total.Other += r.Other
	for _, e := range r.Errors {
		if len(total.Errors) < 5 && !slices.Contains(total.Errors, e) {
			total.Errors = append(total.Errors, e)
		}
	}
}

// diff returns a[i]-b[i] for every i.
func diff(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}
