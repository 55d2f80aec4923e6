package traffic

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
)

// outcome is the result of one attempt: who answered and whom they saw, or
// why nobody did.
type outcome struct {
	pod      string
	clientIP string
	err      error
}

// attempt makes one connection or exchange of p.
func attempt(ctx context.Context, p Probe) outcome {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	conn, err := (&net.Dialer{}).DialContext(ctx, dialNetwork(p.Protocol), p.Addr.String())
	if err != nil {
		return outcome{err: err}
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return outcome{err: err}
	}
	var line string
	switch p.Protocol {
	case UDP:
		line, err = exchangeUDP(conn)
	case HTTP:
		line, err = getHTTP(conn, p.Addr)
	default:
		line, err = readGreeting(conn)
	}
	if err != nil {
		return outcome{err: err}
	}
	return parseOutcome(line)
}

// dialNetwork maps a probe protocol to the socket it needs.
func dialNetwork(protocol string) string {
	if protocol == UDP {
		return "udp"
	}
	return "tcp"
}

// readGreeting reads the line the echo server writes on every TCP connection.
func readGreeting(conn net.Conn) (string, error) {
	line, err := bufio.NewReader(conn).ReadString('\n')
	if errors.Is(err, io.EOF) {
		return "", fmt.Errorf("connection closed without an answer (got %q)", line)
	}
	return line, err
}

// exchangeUDP sends one datagram and reads one reply.
func exchangeUDP(conn net.Conn) (string, error) {
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// getHTTP sends GET / on conn and returns the body of a 200 answer.
func getHTTP(conn net.Conn, addr netip.AddrPort) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr.String()+"/", nil)
	if err != nil {
		return "", err
	}
	req.Close = true
	if err := req.Write(conn); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", fmt.Errorf("connection closed without an HTTP answer")
		}
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %s", resp.Status)
	}
	return string(body), nil
}

// parseOutcome turns an echo reply into an answered outcome.
func parseOutcome(line string) outcome {
	pod, client, err := ParseReply(line)
	if err != nil {
		return outcome{err: err}
	}
	ip := client
	if ap, err := netip.ParseAddrPort(client); err == nil {
		ip = ap.Addr().Unmap().String()
	}
	return outcome{pod: pod, clientIP: ip}
}
