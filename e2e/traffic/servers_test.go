package traffic

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
)

// A server is a loopback listener with one canned behaviour; it returns the
// address to probe.
type server func(t *testing.T) netip.AddrPort

// listenTCP serves every accepted connection with handle until the test ends.
func listenTCP(t *testing.T, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// echoTCP greets like the echo server.
func echoTCP(name string) server {
	return func(t *testing.T) netip.AddrPort {
		return listenTCP(t, func(c net.Conn) {
			defer c.Close()
			io.WriteString(c, FormatReply(name, c.RemoteAddr().String())+"\n")
			io.Copy(io.Discard, c)
		})
	}
}

// resetTCP accepts and resets every connection.
func resetTCP(t *testing.T) netip.AddrPort {
	return listenTCP(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
}

// silentTCP accepts and never writes.
func silentTCP(t *testing.T) netip.AddrPort {
	return listenTCP(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(io.Discard, c)
	})
}

// closeTCP accepts and closes politely without a word.
func closeTCP(t *testing.T) netip.AddrPort {
	return listenTCP(t, func(c net.Conn) { c.Close() })
}

// garbageTCP answers with something that is not an echo reply.
func garbageTCP(t *testing.T) netip.AddrPort {
	return listenTCP(t, func(c net.Conn) {
		defer c.Close()
		io.WriteString(c, "hello\n")
		bufio.NewReader(c).ReadString('\n')
	})
}

// closedPort returns a loopback port nobody listens on.
func closedPort(network string) server {
	return func(t *testing.T) netip.AddrPort {
		t.Helper()
		var addr string
		if network == "udp" {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr = pc.LocalAddr().String()
			pc.Close()
		} else {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr = l.Addr().String()
			l.Close()
		}
		return netip.MustParseAddrPort(addr)
	}
}

// listenUDP answers datagrams with reply (nothing when reply is nil).
func listenUDP(reply func(from net.Addr) []byte) server {
	return func(t *testing.T) netip.AddrPort {
		t.Helper()
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 1500)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				if reply != nil {
					pc.WriteTo(reply(from), from)
				}
			}
		}()
		return netip.MustParseAddrPort(pc.LocalAddr().String())
	}
}

// echoUDP answers like the echo server.
func echoUDP(name string) server {
	return listenUDP(func(from net.Addr) []byte { return []byte(FormatReply(name, from.String())) })
}

// serveHTTP serves h on loopback.
func serveHTTP(h http.HandlerFunc) server {
	return func(t *testing.T) netip.AddrPort {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		t.Cleanup(func() { srv.Close() })
		go srv.Serve(l)
		return netip.MustParseAddrPort(l.Addr().String())
	}
}

// echoHTTP answers GET / like the echo server.
func echoHTTP(name string) server {
	return serveHTTP(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, FormatReply(name, r.RemoteAddr)+"\n")
	})
}
