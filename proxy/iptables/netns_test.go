package iptables_test

import (
	"testing"

	"github.com/kproxy/kproxy/proxy/netnstest"
)

// TestMain runs the tests that use the kernel's iptables in a network namespace of
// their own (see netnstest); without root or unshare they skip.
func TestMain(m *testing.M) { netnstest.Main(m) }

// requireNetns skips tb unless it runs in the throwaway namespace.
func requireNetns(tb testing.TB) { netnstest.Require(tb) }
