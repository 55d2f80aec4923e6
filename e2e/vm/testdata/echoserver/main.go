// Command echoserver is a test backend and client for the VM harness.
//
// As a server (-listen) it answers every TCP connection with its -name and
// a newline, then closes it. As a client (-dial) it connects -count times
// and prints each answer on its own line, or "ERROR <reason>" for a failed
// attempt. Built static (CGO_ENABLED=0) so it runs in the guest as is.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "", "serve on this address (host:port)")
	name := flag.String("name", "", "what the server answers")
	dial := flag.String("dial", "", "connect to this address (host:port)")
	count := flag.Int("count", 1, "connections the client makes")
	timeout := flag.Duration("timeout", 3*time.Second, "client timeout per connection")
	flag.Parse()
	switch {
	case *listen != "":
		serve(*listen, *name)
	case *dial != "":
		failed := false
		for i := 0; i < *count; i++ {
			answer, err := ask(*dial, *timeout)
			if err != nil {
				fmt.Printf("ERROR %v\n", err)
				failed = true
				continue
			}
			fmt.Println(answer)
		}
		if failed {
			os.Exit(1)
		}
	default:
		log.Fatal("want -listen or -dial")
	}
}

// serve answers name to every connection until killed.
func serve(addr, name string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Print(err)
			continue
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintln(c, name)
		}()
	}
}

// ask connects once and returns the first line the server sends.
func ask(addr string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
