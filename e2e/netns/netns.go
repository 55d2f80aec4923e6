// Package netns runs code inside named network namespaces (those created by
// `ip netns add`, bound under /run/netns) from a process that stays in its own
// namespace: a goroutine locks its OS thread, joins the namespace, runs the
// function and switches back. Sockets created there keep their namespace for
// their whole life, so a connection dialled inside Do can be used anywhere.
package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Dir is where `ip netns add` binds named namespaces.
const Dir = "/run/netns"

// Path returns the bind-mount path of the named namespace.
func Path(name string) string {
	return filepath.Join(Dir, name)
}

// Do runs fn on an OS thread that has joined the named network namespace and
// returns fn's error. fn must create its sockets itself, not in goroutines it
// starts: those run on other threads, in the caller's namespace. If the thread
// cannot switch back, it is left locked so the runtime discards it.
func Do(name string, fn func() error) error {
	target, err := os.Open(Path(name))
	if err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() { errc <- doLocked(name, int(target.Fd()), fn) }()
	return <-errc
}

// doLocked is Do's body, run on a fresh goroutine that it locks to its thread.
func doLocked(name string, target int, fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: own namespace: %w", err)
	}
	defer self.Close()
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// Stay locked: the thread dies with this goroutine instead of
		// running other goroutines in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("netns: leave %s: %w", name, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// DialContext returns a dial function (the shape of http.Transport.DialContext
// and rest.Config.Dial) whose connections start inside the named namespace.
// Addresses must be IP literals: name resolution would run on other threads.
func DialContext(name string) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		var conn net.Conn
		err := Do(name, func() error {
			var err error
			conn, err = (&net.Dialer{}).DialContext(ctx, network, address)
			return err
		})
		return conn, err
	}
}

// Listen opens a listener inside the named namespace.
func Listen(name, network, address string) (net.Listener, error) {
	var l net.Listener
	err := Do(name, func() error {
		var err error
		l, err = net.Listen(network, address)
		return err
	})
	return l, err
}

// ListenPacket opens a packet socket inside the named namespace.
func ListenPacket(name, network, address string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := Do(name, func() error {
		var err error
		pc, err = net.ListenPacket(network, address)
		return err
	})
	return pc, err
}
