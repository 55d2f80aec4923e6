package main

import (
	"net"
	"strings"
	"testing"
)

// TestUDPWatch: against an echo server, udpwatch prints the pod once (not at
// every reply) and counts every datagram answered.
func TestUDPWatch(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte("pod-a "+from.String()), from)
		}
	}()
	var out strings.Builder
	if code := udpwatch([]string{pc.LocalAddr().String(), "0.3"}, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " pod-a 0") {
		t.Fatalf("output %q, want one pod line and done", out.String())
	}
	f := strings.Fields(lines[1])
	if len(f) != 3 || f[0] != "done" || f[1] != f[2] || f[1] == "0" {
		t.Errorf("last line %q, want done N N with every datagram answered", lines[1])
	}
}
