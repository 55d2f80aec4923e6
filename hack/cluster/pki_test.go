package main

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"testing"
)

// verifyServing checks that the serving certificate is trusted by the CA
// for every name a client may use.
func verifyServing(t *testing.T, p *pki, names ...string) {
	t.Helper()
	cert, err := readCert(p.serveCert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.caPEM)
	for _, name := range names {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("serving certificate for %s: %v", name, err)
		}
	}
}

func TestPKIIsCachedAndFollowsAddresses(t *testing.T) {
	dir := t.TempDir()
	loopback, err := parseOptions([]string{"--data-dir", dir})
	if err != nil {
		t.Fatal(err)
	}
	p := newPKI(dir)
	if err := p.ensure(servingNames(loopback)); err != nil {
		t.Fatal(err)
	}
	verifyServing(t, p, "127.0.0.1", "10.96.0.1", "kubernetes.default.svc", "localhost")
	firstServing, _ := os.ReadFile(p.serveCert)
	token, ca := p.adminToken, p.caPEM

	again := newPKI(dir)
	if err := again.ensure(servingNames(loopback)); err != nil {
		t.Fatal(err)
	}
	sameServing, _ := os.ReadFile(again.serveCert)
	if again.adminToken != token || !bytes.Equal(again.caPEM, ca) || !bytes.Equal(sameServing, firstServing) {
		t.Error("a second start with the same addresses regenerated credentials")
	}

	fabric, err := parseOptions([]string{"--data-dir", dir, "--bind-address", "10.200.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	moved := newPKI(dir)
	if err := moved.ensure(servingNames(fabric)); err != nil {
		t.Fatal(err)
	}
	if moved.adminToken != token || !bytes.Equal(moved.caPEM, ca) {
		t.Error("a new address changed the CA or the token; old kubeconfigs would break")
	}
	verifyServing(t, moved, "10.200.0.1", "127.0.0.1")
}

func TestTokenFileGrantsMasters(t *testing.T) {
	p := newPKI(t.TempDir())
	if err := p.ensure([]net.IP{net.IPv4(127, 0, 0, 1)}, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.SplitN(strings.TrimSpace(string(data)), ",", 4)
	if len(fields) != 4 || fields[0] != p.adminToken || fields[3] != `"system:masters"` {
		t.Errorf("token file = %q, want <token>,user,uid,\"system:masters\"", data)
	}
}

func TestCorruptCAIsAnError(t *testing.T) {
	p := newPKI(t.TempDir())
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.caCert, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.ensure(nil, nil); err == nil {
		t.Error("a corrupt CA certificate was silently replaced")
	}
}
