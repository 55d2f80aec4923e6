package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// ioTimeout bounds the connect and every read; the guest runs under
// software emulation, so it is generous.
const ioTimeout = 10 * time.Second

// hold opens one TCP connection to an e2e/echo server and keeps it open.
// It prints "held <pod>" once the greeting arrived. Each SIGUSR1 sends
// "ping" and prints "echo <reply>" (or "echo-error <reason>"): proof that
// the connection still works. SIGTERM or SIGINT closes it and exits 0.
func hold(addr string, out io.Writer) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		fmt.Fprintf(out, "error %v\n", err)
		return 1
	}
	defer c.Close()
	r := bufio.NewReader(c)
	greeting, err := readLine(c, r)
	if err != nil {
		fmt.Fprintf(out, "error greeting: %v\n", err)
		return 1
	}
	pod, _, _ := strings.Cut(greeting, " ")
	fmt.Fprintf(out, "held %s\n", pod)
	for s := range sigs {
		if s != syscall.SIGUSR1 {
			return 0
		}
		fmt.Fprintln(out, ping(c, r))
	}
	return 0
}

// ping sends one line and reports what came back.
func ping(c net.Conn, r *bufio.Reader) string {
	c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "echo-error " + err.Error()
	}
	line, err := readLine(c, r)
	if err != nil {
		return "echo-error " + err.Error()
	}
	return "echo " + line
}

// readLine reads one line within ioTimeout, without its newline.
func readLine(c net.Conn, r *bufio.Reader) (string, error) {
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	line, err := r.ReadString('\n')
	return strings.TrimSpace(line), err
}
