package main

import (
	"fmt"
	"strings"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// maxBarWidth is the widest bar: up to this many answers, one '#' each.
const maxBarWidth = 40

// bar is one row of a histogram.
type bar struct {
	label string
	n     int
	note  string
}

// histogram renders rows as aligned "label  #####  n  note" lines.
func histogram(rows []bar) []string {
	width, most := 0, 0
	for _, r := range rows {
		width = max(width, len(r.label))
		most = max(most, r.n)
	}
	scale := 1 // answers per '#'
	if most > maxBarWidth {
		scale = (most + maxBarWidth - 1) / maxBarWidth
	}
	barWidth := (most + scale - 1) / scale
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		marks := (r.n + scale - 1) / scale
		line := fmt.Sprintf("%-*s  %-*s %3d", width, r.label, barWidth, strings.Repeat("#", marks), r.n)
		if r.note != "" {
			line += "  " + r.note
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// answerRows turns a probe's result into histogram rows: one per answering
// pod, labelled by describe, sorted by pod name, then one for the attempts
// nobody answered, if any.
func answerRows(r traffic.Result, describe func(pod string) string) []bar {
	var rows []bar
	for _, pod := range r.PodNames() {
		rows = append(rows, bar{label: describe(pod), n: r.Pods[pod]})
	}
	if f := r.Failed(); f > 0 {
		note := fmt.Sprintf("refused %d, timed out %d, reset %d, other %d", r.Refused, r.TimedOut, r.Reset, r.Other)
		if len(r.Errors) > 0 {
			note += " (" + r.Errors[0] + ")"
		}
		rows = append(rows, bar{label: "no answer", n: f, note: note})
	}
	return rows
}

// sourcesLine tells which client addresses the pods saw, e.g.
// "10.244.2.3 x30 (caller-2 itself: not masqueraded)".
func sourcesLine(r traffic.Result, describe func(ip string) string) string {
	var parts []string
	for _, ip := range r.ClientIPs() {
		part := fmt.Sprintf("%s x%d", ip, r.Clients[ip])
		if d := describe(ip); d != "" {
			part += " (" + d + ")"
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
