package vm

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// entry is one file, directory or symlink of a guest file system tree.
type entry struct {
	mode   fs.FileMode // permission bits plus fs.ModeDir or fs.ModeSymlink
	source string      // host file holding a regular file's contents
	data   []byte      // a regular file's contents when source is empty
	target string      // a symlink's target
}

// tree is a guest file system keyed by clean absolute guest path. Adding a
// path twice keeps the last entry, so later layers override earlier ones.
type tree map[string]entry

// cleanGuest normalises a guest path to the absolute form tree keys use.
func cleanGuest(p string) string {
	return path.Clean("/" + p)
}

// addFile copies the host file src to guest path dst.
func (t tree) addFile(dst, src string, perm fs.FileMode) {
	t[cleanGuest(dst)] = entry{mode: perm.Perm(), source: src}
}

// addData writes data to guest path dst.
func (t tree) addData(dst string, data []byte, perm fs.FileMode) {
	t[cleanGuest(dst)] = entry{mode: perm.Perm(), data: data}
}

// addLink makes guest path dst a symlink to target.
func (t tree) addLink(dst, target string) {
	t[cleanGuest(dst)] = entry{mode: fs.ModeSymlink | 0o777, target: target}
}

// addDir creates the guest directory dst.
func (t tree) addDir(dst string, perm fs.FileMode) {
	t[cleanGuest(dst)] = entry{mode: fs.ModeDir | perm.Perm()}
}

// paths returns every path of the tree plus the parent directories the
// archive needs, sorted so that a directory precedes its contents.
func (t tree) paths() []string {
	seen := map[string]bool{}
	var out []string
	for p := range t {
		for d := p; d != "/" && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// cpioWriter writes a "newc" cpio archive, the format the kernel unpacks
// into its initial root file system. It keeps the first error, so a
// sequence of writes needs one check at the end.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

// writeCPIO writes t as a complete newc archive (with trailer) to w.
func writeCPIO(w io.Writer, t tree) error {
	cw := &cpioWriter{w: w}
	for _, p := range t.paths() {
		e, ok := t[p]
		if !ok {
			e = entry{mode: fs.ModeDir | 0o755}
		}
		cw.entry(strings.TrimPrefix(p, "/"), e)
	}
	cw.header("TRAILER!!!", 0, 0)
	return cw.err
}

// entry writes one archive member.
func (c *cpioWriter) entry(name string, e entry) {
	switch {
	case e.mode&fs.ModeDir != 0:
		c.header(name, 0o040000|uint32(e.mode.Perm()), 0)
	case e.mode&fs.ModeSymlink != 0:
		c.header(name, 0o120000|uint32(e.mode.Perm()), int64(len(e.target)))
		c.body([]byte(e.target))
	case e.source != "":
		c.copyFile(name, e)
	default:
		c.header(name, 0o100000|uint32(e.mode.Perm()), int64(len(e.data)))
		c.body(e.data)
	}
}

// copyFile writes a regular file whose contents come from the host.
func (c *cpioWriter) copyFile(name string, e entry) {
	if c.err != nil {
		return
	}
	f, err := os.Open(e.source)
	if err != nil {
		c.err = err
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		c.err = err
		return
	}
	c.header(name, 0o100000|uint32(e.mode.Perm()), st.Size())
	if c.err != nil {
		return
	}
	n, err := io.Copy(c.w, f)
	if err == nil && n != st.Size() {
		err = fmt.Errorf("%s changed size while archiving", e.source)
	}
	c.err = err
	c.pad(n)
}

// header writes a member header and its NUL-terminated, padded name.
func (c *cpioWriter) header(name string, mode uint32, size int64) {
	c.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	c.body([]byte(h + name + "\x00"))
}

// body writes b followed by the padding that aligns the next part.
func (c *cpioWriter) body(b []byte) {
	if c.err != nil {
		return
	}
	_, c.err = c.w.Write(b)
	c.pad(int64(len(b)))
}

// pad writes the zero bytes that align the next member to 4 bytes.
func (c *cpioWriter) pad(n int64) {
	if c.err != nil || n%4 == 0 {
		return
	}
	_, c.err = c.w.Write(make([]byte, 4-n%4))
}
