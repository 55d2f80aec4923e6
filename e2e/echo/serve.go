package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/kproxy/kproxy/e2e/traffic"
)

// serveOptions is serve's command line.
type serveOptions struct {
	name string
	tcp  []string
	udp  []string
	http []string
}

// parseServe reads serve's flags. Every listener flag takes a comma-separated
// list of addresses; an empty value turns that protocol off.
func parseServe(args []string) (serveOptions, error) {
	fs := flag.NewFlagSet("echo serve", flag.ContinueOnError)
	name := fs.String("name", defaultName(), "pod name to answer with (default $POD_NAME, else the hostname)")
	tcp := fs.String("tcp", ":8080", "TCP listen addresses")
	udp := fs.String("udp", ":8080", "UDP listen addresses")
	web := fs.String("http", ":8081", "HTTP listen addresses")
	if err := fs.Parse(args); err != nil {
		return serveOptions{}, err
	}
	if *name == "" || strings.ContainsAny(*name, " \n") {
		return serveOptions{}, fmt.Errorf("--name %q must be non-empty and contain no blanks", *name)
	}
	return serveOptions{name: *name, tcp: splitList(*tcp), udp: splitList(*udp), http: splitList(*web)}, nil
}

// defaultName is $POD_NAME, else the hostname.
func defaultName() string {
	if n := os.Getenv("POD_NAME"); n != "" {
		return n
	}
	n, _ := os.Hostname()
	return n
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// runServe binds every listener, prints READY with the bound addresses and
// serves until ctx ends.
func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseServe(args)
	if err != nil {
		return err
	}
	var bound []string
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	errc := make(chan error, len(o.tcp)+len(o.udp)+len(o.http))
	for _, addr := range o.tcp {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		closers = append(closers, l)
		bound = append(bound, "tcp="+l.Addr().String())
		go func() { errc <- serveTCP(l, o.name) }()
	}
	for _, addr := range o.udp {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		closers = append(closers, pc)
		bound = append(bound, "udp="+pc.LocalAddr().String())
		go func() { errc <- serveUDP(pc, o.name) }()
	}
	for _, addr := range o.http {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: httpHandler(o.name)}
		closers = append(closers, srv)
		bound = append(bound, "http="+l.Addr().String())
		go func() { errc <- srv.Serve(l) }()
	}
	fmt.Fprintln(stdout, strings.Join(append([]string{"READY"}, bound...), " "))
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// serveTCP greets every connection with the reply line, then echoes.
func serveTCP(l net.Listener, name string) error {
	for {
		conn, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			if _, err := io.WriteString(conn, traffic.FormatReply(name, conn.RemoteAddr().String())+"\n"); err != nil {
				return
			}
			_, _ = io.Copy(conn, conn)
		}()
	}
}

// serveUDP answers every datagram with the reply.
func serveUDP(pc net.PacketConn, name string) error {
	buf := make([]byte, 64*1024)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			continue
		}
		_, _ = pc.WriteTo([]byte(traffic.FormatReply(name, from.String())), from)
	}
}

// httpHandler answers GET / with the reply and /healthz with "ok".
func httpHandler(name string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, traffic.FormatReply(name, r.RemoteAddr)+"\n")
	})
	return mux
}
