package userspacee2e

import "testing"

// TestWithin runs without root: the leak check's arithmetic.
func TestWithin(t *testing.T) {
	base := usage{fds: 20, goroutines: 56, kinds: map[string]int{"pipe": 2, "socket": 12}}
	with := func(fds, pipes, goroutines int) usage {
		return usage{fds: fds, goroutines: goroutines, kinds: map[string]int{"pipe": pipes}}
	}
	for _, tc := range []struct {
		name  string
		after usage
		ok    bool
	}{
		{"the same", base, true},
		{"fewer", with(18, 2, 50), true},
		{"one scrape connection more", with(21, 2, 58), true},
		{"two descriptors more", with(22, 2, 56), false},
		{"a pooled pipe kept", with(22, 4, 56), false},
		{"a goroutine per connection", with(20, 2, 56+1000), false},
		{"sockets leaked, pipes gone", with(2020, 0, 56), false},
	} {
		if got := within(base, tc.after); got != tc.ok {
			t.Errorf("%s: within(%s, %s) = %v, want %v", tc.name, base, tc.after, got, tc.ok)
		}
	}
}
