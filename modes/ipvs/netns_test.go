package ipvsmode

import (
	"testing"

	"github.com/kproxy/kproxy/proxy/netnstest"
)

// TestMain runs the tests that use the kernel's netlink in a network namespace of
// their own (see netnstest); without root or unshare they skip.
func TestMain(m *testing.M) { netnstest.Main(m) }
