// Package tlsfiles serves a TLS certificate from PEM files and picks up a
// new one when the files change, with no restart: Certs.GetCertificate
// goes into a tls.Config. It also makes the self-signed certificate of the
// demo (SelfSigned) and loads CA files for verifying peers (Pool).
package tlsfiles

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Errors of this package.
var (
	ErrNoCert = errors.New("no certificate in file")
	ErrNoCA   = errors.New("no CA certificate in file")
)

// checkEvery is how often GetCertificate looks at the files' modification
// times (at most once per interval, on a handshake).
const checkEvery = time.Second

// Certs is a certificate and key loaded from files, reloaded when either
// file changes. A change that does not load (a half-written file, a key
// that does not match) keeps the previous certificate and is logged; the
// next handshake after the next change tries again.
type Certs struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	checkedAt time.Time
}

// Load reads certFile and keyFile (PEM). log gets reload messages (nil
// discards them).
func Load(certFile, keyFile string, log *slog.Logger) (*Certs, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Certs{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Certs) reload() error {
	cst, err := os.Stat(c.certFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	kst, err := os.Stat(c.keyFile)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert = &cert
	c.certMod, c.keyMod = cst.ModTime(), kst.ModTime()
	return nil
}

// GetCertificate is tls.Config.GetCertificate: the current certificate,
// reloaded first when a file changed since the last look.
func (c *Certs) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.checkedAt) >= checkEvery {
		c.checkedAt = now
		c.maybeReload()
	}
	return c.cert, nil
}

// Reload reloads the files now if they changed (a SIGHUP, a test).
func (c *Certs) Reload() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maybeReload()
}

func (c *Certs) maybeReload() {
	cst, err1 := os.Stat(c.certFile)
	kst, err2 := os.Stat(c.keyFile)
	if err1 != nil || err2 != nil {
		c.log.Warn("tls: certificate files unreadable, keeping the loaded certificate", "cert", c.certFile, "key", c.keyFile, "err", errors.Join(err1, err2))
		return
	}
	if cst.ModTime().Equal(c.certMod) && kst.ModTime().Equal(c.keyMod) {
		return
	}
	old := c.cert
	if err := c.reload(); err != nil {
		c.cert = old
		c.log.Warn("tls: new certificate does not load, keeping the previous one", "err", err)
		return
	}
	c.log.Info("tls: certificate reloaded", "cert", c.certFile, "not_after", c.cert.Leaf.NotAfter)
}

// ServerConfig is a TLS server configuration over c (TLS 1.2 and up).
func (c *Certs) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

// Pool returns the system roots plus the PEM certificates of caFile
// (none when caFile is "").
func Pool(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls ca: %w", err)
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls ca %s: %w", caFile, ErrNoCA)
	}
	return pool, nil
}

// SelfSigned makes, in dir, cert.pem and key.pem (mode 0600) holding a
// self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1,
// valid for ten years, unless both files exist already. It returns their
// paths.
func SelfSigned(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_, e1 := os.Stat(certFile)
	_, e2 := os.Stat(keyFile)
	if e1 == nil && e2 == nil {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("tls: %w", err)
	}
	certPEM, keyPEM, err := NewSelfSigned("localhost", time.Now(), 10*365*24*time.Hour)
	if err != nil {
		return "", "", err
	}
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFile(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// NewSelfSigned returns a PEM certificate and key for name, 127.0.0.1 and
// ::1, valid from notBefore for validFor.
func NewSelfSigned(name string, notBefore time.Time, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"mediaserver self-signed"}},
		NotBefore:             notBefore.Add(-time.Minute),
		NotAfter:              notBefore.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{name},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// writeFile writes through a temporary file and a rename, so a reader
// (a reload) never sees half a file.
func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	return nil
}

// WriteFile writes a PEM file atomically (tests that rotate certificates).
func WriteFile(path string, b []byte, mode os.FileMode) error { return writeFile(path, b, mode) }
