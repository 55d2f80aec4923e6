package ipvstest

import (
	"errors"
	"sync"

	"github.com/moby/ipvs"
)

// ErrInjected is the error of a call Faulty was told to fail.
var ErrInjected = errors.New("ipvstest: injected failure")

// Faulty wraps a Handle and makes chosen calls that change virtual or real servers
// fail without reaching it, to prove that a failed sync is retried and repaired.
// Reads pass through.
type Faulty struct {
	Handle

	mu       sync.Mutex
	writes   int
	failAt   map[int]bool
	failNext int
	failed   int
}

// NewFaulty wraps h; no call fails until told to.
func NewFaulty(h Handle) *Faulty { return &Faulty{Handle: h, failAt: map[int]bool{}} }

// FailWrite makes write call number n fail, counting from 1 over the wrapper's life.
func (f *Faulty) FailWrite(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAt[n] = true
}

// FailNext makes the next n write calls fail.
func (f *Faulty) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

// Writes returns how many write calls were made, failed ones included.
func (f *Faulty) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// Failed returns how many calls were made to fail.
func (f *Faulty) Failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// fail counts a write call and reports whether it must fail.
func (f *Faulty) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.failAt[f.writes] || f.failNext > 0 {
		if f.failNext > 0 {
			f.failNext--
		}
		f.failed++
		return true
	}
	return false
}

// NewService fails when told to, else passes through.
func (f *Faulty) NewService(s *ipvs.Service) error {
	if f.fail() {
		return ErrInjected
	}
	return f.Handle.NewService(s)
}

// UpdateService fails when told to, else passes through.
func (f *Faulty) UpdateService(s *ipvs.Service) error {
	if f.fail() {
		return ErrInjected
	}
	return f.Handle.UpdateService(s)
}

// DelService fails when told to, else passes through.
func (f *Faulty) DelService(s *ipvs.Service) error {
	if f.fail() {
		return ErrInjected
	}
	return f.Handle.DelService(s)
}

// NewDestination fails when told to, else passes through.
func (f *Faulty) NewDestination(s *ipvs.Service, d *ipvs.Destination) error {
	if f.fail() {
		return ErrInjected
	}
	return f.Handle.NewDestination(s, d)
}

// UpdateDestination fails when told to, else passes through.
func (f *Faulty) UpdateDestination(s *ipvs.Service, d *ipvs.Destination) error {
	if f.fail() {
		return ErrInjected
	}
	return f.Handle.UpdateDestination(s, d)
}

// DelDestination fails when told to, else passes through.
func (f *Faulty) DelDestination(s *ipvs.Service, d *ipvs.Destination) error {
	if f.fail() {
		return ErrInjected
	}
	return f.Handle.DelDestination(s, d)
}
