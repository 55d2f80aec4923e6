package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// pki names the credential files kcluster keeps under <data-dir>/pki. They
// are generated once and reused, except the serving certificate, which is
// reissued (by the same CA) whenever it does not cover the addresses asked for.
type pki struct {
	dir        string
	caCert     string
	caKey      string
	serveCert  string
	serveKey   string
	saKey      string
	tokenFile  string
	adminToken string
	// caPEM is the CA certificate, for kubeconfigs and readiness checks.
	caPEM []byte
}

// newPKI lays out the file names under dataDir.
func newPKI(dataDir string) *pki {
	dir := filepath.Join(dataDir, "pki")
	return &pki{
		dir:       dir,
		caCert:    filepath.Join(dir, "ca.crt"),
		caKey:     filepath.Join(dir, "ca.key"),
		serveCert: filepath.Join(dir, "apiserver.crt"),
		serveKey:  filepath.Join(dir, "apiserver.key"),
		saKey:     filepath.Join(dir, "sa.key"),
		tokenFile: filepath.Join(dir, "tokens.csv"),
	}
}

// ensure creates whatever is missing and loads the CA and admin token.
func (p *pki) ensure(ips []net.IP, dns []string) error {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	ca, caKey, err := p.ensureCA()
	if err != nil {
		return fmt.Errorf("CA: %w", err)
	}
	if err := p.ensureServing(ca, caKey, ips, dns); err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	if err := ensureKeyFile(p.saKey); err != nil {
		return fmt.Errorf("service account key: %w", err)
	}
	if err := p.ensureToken(); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	p.caPEM, err = os.ReadFile(p.caCert)
	return err
}

// ensureCA loads the CA, or creates it when either half is missing.
func (p *pki) ensureCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, certErr := readCert(p.caCert)
	key, keyErr := readKey(p.caKey)
	if certErr == nil && keyErr == nil {
		return cert, key, nil
	}
	if !missing(certErr) || !missing(keyErr) {
		return nil, nil, errors.Join(certErr, keyErr)
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := newCA(key)
	if err != nil {
		return nil, nil, err
	}
	if err := errors.Join(writeKey(p.caKey, key), writeCert(p.caCert, der)); err != nil {
		return nil, nil, err
	}
	cert, err = x509.ParseCertificate(der)
	return cert, key, err
}

// ensureServing keeps the cached serving certificate if it still fits and
// issues a new one otherwise.
func (p *pki) ensureServing(ca *x509.Certificate, caKey *ecdsa.PrivateKey, ips []net.IP, dns []string) error {
	cert, certErr := readCert(p.serveCert)
	_, keyErr := readKey(p.serveKey)
	if certErr == nil && keyErr == nil && servingCovers(cert, ca, ips, dns) {
		return nil
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	der, err := newServing(ca, caKey, key, ips, dns)
	if err != nil {
		return err
	}
	return errors.Join(writeKey(p.serveKey, key), writeCert(p.serveCert, der))
}

// ensureToken reads the admin token, creating it once, and rewrites the
// static token file that grants it system:masters.
func (p *pki) ensureToken() error {
	path := filepath.Join(p.dir, "admin.token")
	data, err := os.ReadFile(path)
	switch {
	case missing(err):
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return err
		}
		data = []byte(hex.EncodeToString(buf))
		if err := writeFileAtomic(path, data, 0o600); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	p.adminToken = strings.TrimSpace(string(data))
	if p.adminToken == "" {
		return fmt.Errorf("%s is empty", path)
	}
	line := fmt.Sprintf("%s,kcluster-admin,kcluster-admin,\"system:masters\"\n", p.adminToken)
	return writeFileAtomic(p.tokenFile, []byte(line), 0o600)
}

// ensureKeyFile creates an EC private key at path unless one is there.
func ensureKeyFile(path string) error {
	if _, err := readKey(path); !missing(err) {
		return err
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	return writeKey(path, key)
}

// missing reports whether err means the file does not exist yet.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}
