package traffic

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// TestDialTimedOut checks that only timeouts of the handshake count as
// DialTimedOut.
func TestDialTimedOut(t *testing.T) {
	tests := []struct {
		name             string
		err              error
		timedOut, inDial int
	}{
		{"handshake timed out", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, 1, 1},
		{"read timed out", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, 1, 0},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Result
			r.add(outcome{err: tt.err})
			if r.TimedOut != tt.timedOut || r.DialTimedOut != tt.inDial {
				t.Errorf("TimedOut %d, DialTimedOut %d; want %d, %d", r.TimedOut, r.DialTimedOut, tt.timedOut, tt.inDial)
			}
		})
	}
}
