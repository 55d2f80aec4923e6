package traffic

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// kind is a failure class of Result.
type kind int

const (
	kindOther kind = iota
	kindRefused
	kindTimeout
	kindReset
)

// classify sorts a failed attempt into refused, timed out, reset or other.
func classify(err error) kind {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return kindReset
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return kindTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return kindTimeout
	}
	return kindOther
}

// isDial tells whether err came from dialing (the handshake), not from
// using an established connection.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
