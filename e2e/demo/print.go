package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// printer writes the demo's sections. Once quiet reports true (the demo
// was interrupted) it drops everything, so a torn-down cluster's errors do
// not bury the cleanup report.
type printer struct {
	w     io.Writer
	quiet func() bool
	mu    sync.Mutex
}

// newPrinter returns a printer to w; quiet may be nil.
func newPrinter(w io.Writer, quiet func() bool) *printer {
	return &printer{w: w, quiet: quiet}
}

// loud returns a printer to the same writer that never goes quiet, for the
// cleanup report.
func (p *printer) loud() *printer {
	return &printer{w: p.w}
}

// Section starts a numbered section.
func (p *printer) Section(n, total int, title string) {
	p.write(fmt.Sprintf("\n[%d/%d] %s\n", n, total, title))
}

// Linef prints one line indented under the section title.
func (p *printer) Linef(format string, args ...any) {
	p.write(strings.TrimRight("  "+fmt.Sprintf(format, args...), " ") + "\n")
}

// Block prints text (several lines) indented by prefix.
func (p *printer) Block(prefix, text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(prefix+l, " ")
	}
	p.write(strings.Join(lines, "\n") + "\n")
}

// Raw prints s as it is.
func (p *printer) Raw(s string) {
	p.write(s)
}

// write prints s unless the printer is quiet.
func (p *printer) write(s string) {
	if p.quiet != nil && p.quiet() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, s)
}
