package server

import (
	"crypto/tls"
	"fmt"
	"path/filepath"

	"github.com/wasmvoice/mediaserver/internal/tlsfiles"
	"github.com/wasmvoice/mediaserver/sip"
)

// sipSecurity is the TLS and SRTP side of the SIP configuration.
type sipSecurity struct {
	server, client *tls.Config
	srtp           map[string]sip.SRTPPolicy
}

// sipSecurity loads the TLS listeners' certificate ([sip] tls_cert and
// tls_key, or a self-signed one made in <data_dir>/tls), the roots
// trusted for TLS trunks, and each listener transport's SRTP policy.
func (s *Server) sipSecurity() (sipSecurity, error) {
	var sec sipSecurity
	plain, err := sip.ParseSRTPPolicy(s.cfg.SIP.SRTP)
	if err != nil {
		return sec, fmt.Errorf("server: sip.srtp: %w", err)
	}
	overTLS := plain
	if s.cfg.SIP.TLSSRTP != "" {
		if overTLS, err = sip.ParseSRTPPolicy(s.cfg.SIP.TLSSRTP); err != nil {
			return sec, fmt.Errorf("server: sip.tls_srtp: %w", err)
		}
	}
	sec.srtp = map[string]sip.SRTPPolicy{"UDP": plain, "TCP": plain, "TLS": overTLS}
	pool, err := tlsfiles.Pool(s.cfg.SIP.TLSCA)
	if err != nil {
		return sec, fmt.Errorf("server: sip.tls_ca: %w", err)
	}
	sec.client = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	if len(s.cfg.SIP.TLS) == 0 {
		return sec, nil
	}
	certFile, keyFile := s.cfg.SIP.TLSCert, s.cfg.SIP.TLSKey
	if certFile == "" {
		if certFile, keyFile, err = tlsfiles.SelfSigned(filepath.Join(s.cfg.DataDir, "tls")); err != nil {
			return sec, fmt.Errorf("server: %w", err)
		}
		s.log.Info("sip: tls listeners use a self-signed certificate (set [sip] tls_cert and tls_key for a real one)", "cert", certFile)
	}
	certs, err := tlsfiles.Load(certFile, keyFile, s.log.With("component", "sip"))
	if err != nil {
		return sec, fmt.Errorf("server: sip: %w", err)
	}
	s.certs = certs
	sec.server = certs.ServerConfig()
	return sec, nil
}

// ReloadTLS reloads the TLS listeners' certificate files now if they
// changed (SIGHUP); a handshake also reloads them, at most once a second.
func (s *Server) ReloadTLS() {
	if s.certs != nil {
		s.certs.Reload()
	}
}

// TLSCertFile returns the certificate file the TLS listeners serve ("" without TLS).
func (s *Server) TLSCertFile() string {
	if len(s.cfg.SIP.TLS) == 0 {
		return ""
	}
	if s.cfg.SIP.TLSCert != "" {
		return s.cfg.SIP.TLSCert
	}
	return filepath.Join(s.cfg.DataDir, "tls", "cert.pem")
}
