package vm

import (
	"slices"
	"strings"
	"testing"
)

func TestParseForwards(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]int
		want    string // netdev option rendered from the result
		wantErr string
	}{{
		name: "apiserver forward",
		in:   map[string]int{"10.0.2.100:6443": 36443},
		want: "user,id=net0,restrict=on,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3," +
			"guestfwd=tcp:10.0.2.100:6443-cmd:/bin/busybox sh -c \"exec /bin/busybox nc 127.0.0.1 36443 2>/dev/null\"",
	}, {
		name: "several, sorted by guest address",
		in:   map[string]int{"10.0.2.101:80": 8080, "10.0.2.100:6443": 6443},
		want: "user,id=net0,restrict=on,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3," +
			"guestfwd=tcp:10.0.2.100:6443-cmd:/bin/busybox sh -c \"exec /bin/busybox nc 127.0.0.1 6443 2>/dev/null\"," +
			"guestfwd=tcp:10.0.2.101:80-cmd:/bin/busybox sh -c \"exec /bin/busybox nc 127.0.0.1 8080 2>/dev/null\"",
	}, {
		name:    "outside the user network",
		in:      map[string]int{"192.168.1.1:6443": 6443},
		wantErr: "must be in 10.0.2.0/24",
	}, {
		name:    "the host's alias",
		in:      map[string]int{"10.0.2.2:6443": 6443},
		wantErr: "reserved",
	}, {
		name:    "the guest itself",
		in:      map[string]int{"10.0.2.15:6443": 6443},
		wantErr: "reserved",
	}, {
		name:    "no port",
		in:      map[string]int{"10.0.2.100": 6443},
		wantErr: "want guest ip:port",
	}, {
		name:    "bad host port",
		in:      map[string]int{"10.0.2.100:6443": 70000},
		wantErr: "host port 70000",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fwds, err := parseForwards(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseForwards(%v) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := netdevArg(fwds); got != tt.want {
				t.Errorf("netdev option\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestQEMUArgsIsolation pins the flags that keep the guest away from any
// network but the forwards: no default devices, and either no NIC at all
// or only the restricted user network.
func TestQEMUArgsIsolation(t *testing.T) {
	c := Config{Memory: "512M", CPUs: 1}
	files := qemuFiles{kernel: "k", initrd: "i", console: "c.log", output: "o.log"}

	args := qemuArgs(c, files, nil)
	for _, want := range [][]string{{"-nodefaults"}, {"-nic", "none"}, {"-accel", "tcg"}, {"-no-reboot"}} {
		if !containsSeq(args, want) {
			t.Errorf("without forwards, args %v lack %v", args, want)
		}
	}
	if slices.Contains(args, "-netdev") {
		t.Errorf("without forwards, args %v have a -netdev", args)
	}

	fwds, err := parseForwards(map[string]int{"10.0.2.100:6443": 6443})
	if err != nil {
		t.Fatal(err)
	}
	args = qemuArgs(c, files, fwds)
	var netdevs []string
	for i, a := range args {
		if a == "-netdev" || a == "-nic" || a == "-net" {
			netdevs = append(netdevs, args[i+1])
		}
	}
	if len(netdevs) != 1 || !strings.Contains(netdevs[0], "restrict=on") || strings.Contains(netdevs[0], "hostfwd") {
		t.Errorf("with forwards, network options = %q, want one restricted user netdev", netdevs)
	}
	if !slices.Contains(args, "-nodefaults") {
		t.Errorf("with forwards, args %v lack -nodefaults", args)
	}
}

// containsSeq reports whether seq occurs in args as consecutive elements.
func containsSeq(args, seq []string) bool {
	for i := 0; i+len(seq) <= len(args); i++ {
		if slices.Equal(args[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}
