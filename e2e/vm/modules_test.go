package vm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeModules writes a modules.dep and modules.builtin into a directory.
func fakeModules(t *testing.T) *moduleDB {
	t.Helper()
	dir := t.TempDir()
	dep := `kernel/lib/libcrc32c.ko:
kernel/crypto/crc32c_generic.ko:
kernel/net/netfilter/nf_conntrack.ko: kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko
kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko:
kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko
kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko kernel/net/netfilter/nf_conntrack.ko kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko
kernel/net/netfilter/ipset/ip_set.ko:
kernel/net/netfilter/ipset/ip_set_hash_ip.ko: kernel/net/netfilter/ipset/ip_set.ko
kernel/net/netfilter/ipset/ip_set_bitmap_port.ko: kernel/net/netfilter/ipset/ip_set.ko
kernel/arch/x86/crypto/crc32c-intel.ko:
`
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/net/netfilter/x_tables.ko\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := loadModuleDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestResolveModules(t *testing.T) {
	tests := []struct {
		name    string
		wanted  []string
		want    []string
		wantErr string
	}{{
		name:   "dependencies first, each once",
		wanted: []string{"ip_vs_rr", "ip_vs"},
		want:   []string{"libcrc32c", "nf_defrag_ipv4", "nf_conntrack", "ip_vs", "ip_vs_rr"},
	}, {
		name:   "wanted order is kept",
		wanted: []string{"crc32c_generic", "ip_vs"},
		want:   []string{"crc32c_generic", "libcrc32c", "nf_defrag_ipv4", "nf_conntrack", "ip_vs"},
	}, {
		name:   "globs expand sorted",
		wanted: []string{"ip_set_*"},
		want:   []string{"ip_set", "ip_set_bitmap_port", "ip_set_hash_ip"},
	}, {
		name:   "dashes and underscores are the same",
		wanted: []string{"crc32c-intel"},
		want:   []string{"crc32c_intel"},
	}, {
		name:   "built-in modules need no loading",
		wanted: []string{"x_tables"},
		want:   nil,
	}, {
		name:    "unknown modules are an error",
		wanted:  []string{"ip_vs", "ip_vs_nope", "nft_*"},
		wantErr: "ip_vs_nope, nft_*",
	}}
	db := fakeModules(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.resolve(tt.wanted)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("resolve(%v) error = %v, want one naming %q", tt.wanted, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resolve(%v) = %v, want %v", tt.wanted, got, tt.want)
			}
		})
	}
}
