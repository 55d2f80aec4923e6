package main

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name           string
		args           []string
		wantErr        string
		wantAdvertise  string
		wantKubeconfig string
		wantExtra      []string
	}{
		{
			name:           "advertise defaults to bind address",
			args:           []string{"--data-dir", dir, "--bind-address", "10.200.0.1"},
			wantAdvertise:  "10.200.0.1",
			wantKubeconfig: filepath.Join(dir, "admin.kubeconfig"),
		},
		{
			name:           "explicit advertise and kubeconfig",
			args:           []string{"--data-dir", dir, "--bind-address", "0.0.0.0", "--advertise-address", "10.200.0.1", "--kubeconfig", filepath.Join(dir, "k")},
			wantAdvertise:  "10.200.0.1",
			wantKubeconfig: filepath.Join(dir, "k"),
		},
		{
			name:    "wildcard bind needs an advertise address",
			args:    []string{"--data-dir", dir, "--bind-address", "0.0.0.0"},
			wantErr: "--advertise-address is required",
		},
		{
			name:    "bad address",
			args:    []string{"--data-dir", dir, "--bind-address", "localhost"},
			wantErr: "not an IP address",
		},
		{
			name:    "bad service range",
			args:    []string{"--data-dir", dir, "--service-cluster-ip-range", "10.96.0.0"},
			wantErr: "--service-cluster-ip-range",
		},
		{
			name:           "extra apiserver flags after --",
			args:           []string{"--data-dir", dir, "--", "--v=2"},
			wantAdvertise:  "127.0.0.1",
			wantKubeconfig: filepath.Join(dir, "admin.kubeconfig"),
			wantExtra:      []string{"--v=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := o.advertiseAddress.String(); got != tt.wantAdvertise {
				t.Errorf("advertise address = %s, want %s", got, tt.wantAdvertise)
			}
			if o.kubeconfig != tt.wantKubeconfig {
				t.Errorf("kubeconfig = %s, want %s", o.kubeconfig, tt.wantKubeconfig)
			}
			if !slices.Equal(o.extraArgs, tt.wantExtra) {
				t.Errorf("extra args = %q, want %q", o.extraArgs, tt.wantExtra)
			}
		})
	}
}

func TestApiserverArgs(t *testing.T) {
	p := newPKI("/data")
	tests := []struct {
		name      string
		args      []string
		wantFlags []string
	}{
		{
			name: "loopback has no kubernetes endpoints",
			args: []string{"--data-dir", "/data"},
			wantFlags: []string{
				"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=6443",
				"--endpoint-reconciler-type=none", "--etcd-servers=http://127.0.0.1:2379",
				"--token-auth-file=/data/pki/tokens.csv", "--service-cluster-ip-range=10.96.0.0/16",
			},
		},
		{
			name: "fabric address publishes kubernetes endpoints, etcd stays on loopback",
			args: []string{"--data-dir", "/data", "--bind-address", "10.200.0.1", "--etcd-port", "12379", "--secure-port", "7443"},
			wantFlags: []string{
				"--bind-address=10.200.0.1", "--advertise-address=10.200.0.1", "--secure-port=7443",
				"--endpoint-reconciler-type=lease", "--etcd-servers=http://127.0.0.1:12379",
			},
		},
		{
			name:      "extra flags come last so they win",
			args:      []string{"--data-dir", "/data", "--", "--authorization-mode=AlwaysAllow"},
			wantFlags: []string{"--authorization-mode=RBAC", "--authorization-mode=AlwaysAllow"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			got := apiserverArgs(o, p)
			for _, want := range tt.wantFlags {
				if !slices.Contains(got, want) {
					t.Errorf("missing %s in %q", want, got)
				}
			}
			if len(o.extraArgs) > 0 && !slices.Equal(got[len(got)-len(o.extraArgs):], o.extraArgs) {
				t.Errorf("extra args are not last: %q", got)
			}
		})
	}
}

func TestFirstServiceIP(t *testing.T) {
	tests := []struct{ cidr, want string }{
		{"10.96.0.0/16", "10.96.0.1"},
		{"10.0.255.0/24", "10.0.255.1"},
		{"fd00:10:96::/112", "fd00:10:96::1"},
	}
	for _, tt := range tests {
		_, cidr, err := net.ParseCIDR(tt.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if got := firstServiceIP(cidr).String(); got != tt.want {
			t.Errorf("firstServiceIP(%s) = %s, want %s", tt.cidr, got, tt.want)
		}
	}
}

func TestServingNames(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"loopback", []string{"--data-dir", "/d"}, []string{"127.0.0.1", "::1", "10.96.0.1"}},
		{"fabric address", []string{"--data-dir", "/d", "--bind-address", "10.200.0.1"}, []string{"127.0.0.1", "::1", "10.200.0.1", "10.96.0.1"}},
		{"wildcard bind", []string{"--data-dir", "/d", "--bind-address", "0.0.0.0", "--advertise-address", "10.200.0.1", "--service-cluster-ip-range", "10.0.0.0/24"}, []string{"127.0.0.1", "::1", "10.200.0.1", "10.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			ips, _ := servingNames(o)
			var got []string
			for _, ip := range ips {
				got = append(got, ip.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("serving IPs = %q, want %q", got, tt.want)
			}
		})
	}
}
