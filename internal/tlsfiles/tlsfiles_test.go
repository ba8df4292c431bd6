package tlsfiles

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func serial(t *testing.T, c *tls.Certificate) string {
	t.Helper()
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.String()
}

// TestReload: a rotated certificate is served from the next look at the
// files on; a broken one keeps the previous certificate.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, err := SelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	c, err := Load(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }
	first, _ := c.GetCertificate(nil)
	s1 := serial(t, first)

	// SelfSigned keeps existing files.
	if _, _, err := SelfSigned(dir); err != nil {
		t.Fatal(err)
	}
	same, _ := c.GetCertificate(nil)
	if serial(t, same) != s1 {
		t.Fatal("SelfSigned replaced existing files")
	}

	// Rotate: a new pair, with a later modification time.
	certPEM, keyPEM, err := NewSelfSigned("localhost", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(certFile, later, later)
	os.Chtimes(keyFile, later, later)
	// Within checkEvery of the last look, the old certificate is served.
	if got, _ := c.GetCertificate(nil); serial(t, got) != s1 {
		t.Fatal("reloaded before checkEvery")
	}
	now = now.Add(checkEvery)
	second, _ := c.GetCertificate(nil)
	s2 := serial(t, second)
	if s2 == s1 {
		t.Fatal("rotated certificate not picked up")
	}
	if !bytes.Equal(second.Certificate[0], mustDER(t, certPEM)) {
		t.Fatal("served certificate is not the new file's")
	}

	// A broken certificate file keeps the loaded one.
	if err := WriteFile(certFile, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	evenLater := later.Add(2 * time.Second)
	os.Chtimes(certFile, evenLater, evenLater)
	now = now.Add(checkEvery)
	if got, _ := c.GetCertificate(nil); serial(t, got) != s2 {
		t.Fatal("a broken file replaced the certificate")
	}
}

func mustDER(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("bad pem")
	}
	return b.Bytes
}

func TestPool(t *testing.T) {
	dir := t.TempDir()
	certFile, _, err := SelfSigned(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Pool(certFile); err != nil {
		t.Fatalf("Pool(cert): %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("nothing"), 0o644)
	if _, err := Pool(bad); err == nil {
		t.Fatal("Pool of a file without certificates: no error")
	}
	if _, err := Pool(filepath.Join(dir, "missing.pem")); err == nil {
		t.Fatal("Pool of a missing file: no error")
	}
}
