package userspace

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestPortAllocator(t *testing.T) {
	type step struct {
		release int   // release this port instead of allocating
		busy    []int // ports another program holds during this allocation
		want    int   // allocated port; 0: exhausted
	}
	cases := []struct {
		name  string
		rng   PortRange
		steps []step
	}{
		{"hands out the range in order", PortRange{Base: 40000, Size: 3}, []step{
			{want: 40000}, {want: 40001}, {want: 40002}, {want: 0},
		}},
		{"a released port comes back last", PortRange{Base: 40000, Size: 3}, []step{
			{want: 40000}, {want: 40001}, {release: 40000}, {want: 40002}, {want: 40000}, {want: 0},
		}},
		{"ports held by others are skipped", PortRange{Base: 40000, Size: 3}, []step{
			{busy: []int{40000, 40001}, want: 40002}, {want: 40000},
		}},
		{"exhausted when the rest is busy", PortRange{Base: 40000, Size: 2}, []step{
			{want: 40000}, {busy: []int{40001}, want: 0},
		}},
		{"a single port", PortRange{Base: 40000, Size: 1}, []step{
			{want: 40000}, {want: 0}, {release: 40000}, {want: 40000},
		}},
		{"releasing what was not allocated is harmless", PortRange{Base: 40000, Size: 2}, []step{
			{release: 39999}, {release: 40001}, {want: 40000}, {want: 40001},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newPortAllocator(tc.rng)
			for i, s := range tc.steps {
				if s.release != 0 {
					a.release(s.release)
					continue
				}
				got, err := a.allocate(func(port int) (int, error) {
					for _, b := range s.busy {
						if b == port {
							return 0, fmt.Errorf("listen: %w", syscall.EADDRINUSE)
						}
					}
					return port, nil
				})
				switch {
				case s.want == 0 && !errors.Is(err, errPortsExhausted):
					t.Fatalf("step %d: got %d, %v; want the range exhausted", i, got, err)
				case s.want != 0 && (err != nil || got != s.want):
					t.Fatalf("step %d: got %d, %v; want %d", i, got, err, s.want)
				}
			}
		})
	}
}

func TestPortAllocatorAnyPort(t *testing.T) {
	a := newPortAllocator(PortRange{})
	got, err := a.allocate(func(port int) (int, error) {
		if port != 0 {
			t.Errorf("asked to bind %d, want 0 (the kernel's choice)", port)
		}
		return 43210, nil
	})
	if err != nil || got != 43210 {
		t.Fatalf("allocate = %d, %v; want the kernel's port", got, err)
	}
	a.release(43210)
	if a.inUse() != 0 {
		t.Errorf("inUse = %d, want 0", a.inUse())
	}
}

func TestPortAllocatorOtherErrors(t *testing.T) {
	a := newPortAllocator(PortRange{Base: 40000, Size: 5})
	boom := errors.New("permission denied")
	if _, err := a.allocate(func(int) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("allocate = %v, want the bind error", err)
	}
	if a.inUse() != 0 {
		t.Errorf("a failed bind kept a port")
	}
}
