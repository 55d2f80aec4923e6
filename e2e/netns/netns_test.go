package netns

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
)

// throwaway creates a named namespace with loopback up, removed when the
// test ends. The name follows the e2e framework's "kpe2e-<pid>-" scheme so
// its sweep removes it if the test is killed.
func throwaway(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	name := fmt.Sprintf("kpe2e-%d-0000-netns-test", os.Getpid())
	for _, argv := range [][]string{{"ip", "netns", "add", name}, {"ip", "-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", argv, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	return name
}

func TestDoRunsInsideAndComesBack(t *testing.T) {
	ns := throwaway(t)
	var inside []net.Interface
	if err := Do(ns, func() error {
		var err error
		inside, err = net.Interfaces()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(inside) != 1 || inside[0].Name != "lo" {
		t.Errorf("inside the namespace: %v, want only lo", inside)
	}
	// Many calls: no thread may be returned to the runtime in the namespace.
	for range 50 {
		if err := Do(ns, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	own, _ := os.Readlink("/proc/self/ns/net")
	if cur, _ := os.Readlink("/proc/thread-self/ns/net"); cur != own {
		t.Fatalf("the test's thread is in %s, the process in %s", cur, own)
	}
}

func TestSocketsKeepTheirNamespace(t *testing.T) {
	ns := throwaway(t)
	l, err := Listen(ns, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "hello from inside")
			c.Close()
		}
	}()
	conn, err := DialContext(ns)(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "hello from inside\n" {
		t.Errorf("read %q, %v", line, err)
	}
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Errorf("the namespace's loopback listener %s is reachable from the host", l.Addr())
	}
	if err := Do("kpe2e-no-such-namespace", func() error { return nil }); err == nil {
		t.Error("Do into a missing namespace succeeded")
	}
}
