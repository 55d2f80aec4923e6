package vm

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// cpioMember is one parsed newc archive member.
type cpioMember struct {
	name string
	mode uint32
	body string
}

// readCPIO parses a newc archive up to its trailer, checking that every
// header starts 4-byte aligned as the kernel requires.
func readCPIO(t *testing.T, b []byte) []cpioMember {
	t.Helper()
	var out []cpioMember
	off := 0
	field := func(i int) int {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("bad header field at %d: %v", off, err)
		}
		return int(v)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if off%4 != 0 || string(b[off:off+6]) != "070701" {
			t.Fatalf("no aligned newc header at offset %d", off)
		}
		mode, size, namesize := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+namesize-1])
		off = align(off + 110 + namesize)
		if name == "TRAILER!!!" {
			return out
		}
		out = append(out, cpioMember{name: name, mode: uint32(mode), body: string(b[off : off+size])})
		off = align(off + size)
	}
}

func TestWriteCPIO(t *testing.T) {
	host := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(host, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tr := tree{}
	tr.addFile("/usr/local/bin/prog", host, 0o755)
	tr.addData("etc/hosts", []byte("127.0.0.1 localhost\n"), 0o644)
	tr.addLink("/bin/sh", "dash")
	tr.addDir("/proc", 0o555)
	tr.addData("/etc/hosts", []byte("later wins\n"), 0o600)

	var buf bytes.Buffer
	if err := writeCPIO(&buf, tr); err != nil {
		t.Fatal(err)
	}
	got := readCPIO(t, buf.Bytes())
	want := []cpioMember{
		{"bin", 0o040755, ""},
		{"bin/sh", 0o120777, "dash"},
		{"etc", 0o040755, ""},
		{"etc/hosts", 0o100600, "later wins\n"},
		{"proc", 0o040555, ""},
		{"usr", 0o040755, ""},
		{"usr/local", 0o040755, ""},
		{"usr/local/bin", 0o040755, ""},
		{"usr/local/bin/prog", 0o100755, "#!/bin/sh\necho hi\n"},
	}
	if len(got) != len(want) {
		t.Fatalf("archive has %d members %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("member %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestWriteCPIOMissingSource(t *testing.T) {
	tr := tree{}
	tr.addFile("/x", filepath.Join(t.TempDir(), "missing"), 0o644)
	if err := writeCPIO(&bytes.Buffer{}, tr); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("writeCPIO with a missing source = %v, want a not-exist error", err)
	}
}
