package vm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// fingerprint identifies a tree's contents cheaply: paths, modes, link
// targets, inline data, and the size and mtime of every host file.
func (t tree) fingerprint() (string, error) {
	h := sha256.New()
	keys := make([]string, 0, len(t))
	for p := range t {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		e := t[p]
		fmt.Fprintf(h, "%s %o %q %x", p, uint32(e.mode), e.target, sha256.Sum256(e.data))
		if e.source != "" {
			st, err := os.Stat(e.source)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, " %s %d %d", e.source, st.Size(), st.ModTime().UnixNano())
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// cachedArchive returns the path of t's cpio archive in cacheDir, writing
// it first unless an earlier run did. Writes are atomic (temp + rename),
// so concurrent test processes share the cache safely.
func cachedArchive(t tree, cacheDir string) (string, error) {
	fp, err := t.fingerprint()
	if err != nil {
		return "", err
	}
	file := filepath.Join(cacheDir, "base-"+fp+".cpio")
	if _, err := os.Stat(file); err == nil {
		now := time.Now()
		os.Chtimes(file, now, now) // in use: keep it from pruneCache
		return file, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cacheDir, "base-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	err = writeCPIO(tmp, t)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing initramfs: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return "", err
	}
	pruneCache(cacheDir, file)
	return file, nil
}

// pruneCache removes base archives other than keep that are over an hour
// old: left by earlier kernels or tool versions, and no longer being read.
func pruneCache(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "base-*.cpio"))
	for _, f := range old {
		if st, err := os.Stat(f); err == nil && f != keep && time.Since(st.ModTime()) > time.Hour {
			os.Remove(f)
		}
	}
}
