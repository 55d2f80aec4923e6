package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// startServe runs serve on loopback ports and returns its bound addresses by
// protocol, read from the READY line.
func startServe(t *testing.T, name string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--name", name, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0"}, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil || !strings.HasPrefix(line, "READY ") {
		t.Fatalf("serve said %q, %v", line, err)
	}
	addrs := map[string]string{}
	for _, f := range strings.Fields(line)[1:] {
		proto, addr, _ := strings.Cut(f, "=")
		addrs[proto] = addr
	}
	return addrs
}

func TestServeAndClient(t *testing.T) {
	addrs := startServe(t, "pod-x")
	for _, proto := range []string{traffic.TCP, traffic.UDP, traffic.HTTP} {
		t.Run(proto, func(t *testing.T) {
			var out bytes.Buffer
			if err := runClient([]string{"--" + proto, addrs[proto], "-n", "12", "--json"}, &out); err != nil {
				t.Fatal(err)
			}
			var r traffic.Result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("%v in %q", err, out.String())
			}
			if r.Sent != 12 || r.Pods["pod-x"] != 12 || r.Clients["127.0.0.1"] != 12 {
				t.Errorf("result %s", r.String())
			}
		})
	}
}

func TestClientFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--tcp", "1.2.3.4:80", "--udp", "1.2.3.4:80"},
		{"--tcp", "not-an-address"},
	} {
		if _, _, err := parseClient(args); err == nil {
			t.Errorf("parseClient(%q): no error", args)
		}
	}
}

func TestServeRejectsBlankName(t *testing.T) {
	if _, err := parseServe([]string{"--name", "a b"}); err == nil {
		t.Error("a name with a blank was accepted")
	}
}
