package media

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/srtp/v3"
)

// SRTP keys an endpoint's media (RFC 3711, keys from SDES): what it sends
// is protected with Local, what it receives must authenticate under
// Remote and is decrypted with it. A packet that does not authenticate
// (tampered, or under another key) or that was received before (a replay,
// within a 64-packet window) is dropped and counted.
type SRTP struct {
	Profile SRTPProfile
	// Local and Remote are master key || master salt (30 bytes).
	Local, Remote []byte
}

// SRTPProfile is an SRTP crypto suite.
type SRTPProfile int

// The supported profiles (RFC 4568's names).
const (
	AES128CMHMACSHA1_80 SRTPProfile = iota + 1 // AES_CM_128_HMAC_SHA1_80
	AES128CMHMACSHA1_32                        // AES_CM_128_HMAC_SHA1_32
)

// ParseSRTPProfile maps an SDES suite name to its profile.
func ParseSRTPProfile(suite string) (SRTPProfile, error) {
	switch strings.ToUpper(suite) {
	case "AES_CM_128_HMAC_SHA1_80":
		return AES128CMHMACSHA1_80, nil
	case "AES_CM_128_HMAC_SHA1_32":
		return AES128CMHMACSHA1_32, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrSRTPProfile, suite)
}

// replayWindow is how many packets back the replay check remembers
// (RFC 3711 section 3.3.2 asks for at least 64).
const replayWindow = 64

// srtpKeyLen is the master key (16) plus salt (14) of the AES-128 suites.
const srtpKeyLen = 30

// srtpContexts makes the protecting and the checking context of s.
func srtpContexts(s *SRTP) (tx, rx *srtp.Context, err error) {
	var profile srtp.ProtectionProfile
	switch s.Profile {
	case AES128CMHMACSHA1_80:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	case AES128CMHMACSHA1_32:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_32
	default:
		return nil, nil, fmt.Errorf("%w: %d", ErrSRTPProfile, s.Profile)
	}
	if len(s.Local) != srtpKeyLen || len(s.Remote) != srtpKeyLen {
		return nil, nil, fmt.Errorf("%w: keys of %d and %d bytes, want %d", ErrSRTPKey, len(s.Local), len(s.Remote), srtpKeyLen)
	}
	tx, err = srtp.CreateContext(s.Local[:16], s.Local[16:], profile)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSRTPKey, err)
	}
	rx, err = srtp.CreateContext(s.Remote[:16], s.Remote[16:], profile, srtp.SRTPReplayProtection(replayWindow))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSRTPKey, err)
	}
	return tx, rx, nil
}

// srtpDrop classifies a failed unprotect: a replay, an authentication
// failure (tampered, wrong key), or anything else (too short to be SRTP).
type srtpDrop int

const (
	srtpDropAuth srtpDrop = iota
	srtpDropReplay
	srtpDropMalformed
)

func classifySRTPError(err error) srtpDrop {
	switch {
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag):
		return srtpDropAuth
	case strings.Contains(err.Error(), "duplicated"):
		// pion/srtp's replay error type is not exported; its message is
		// "... duplicated packet".
		return srtpDropReplay
	}
	return srtpDropMalformed
}

// unprotect checks and decrypts one received packet into dst (caller
// holds e.mu); ok false means it was dropped and counted.
func (e *Endpoint) unprotect(b []byte) (plain []byte, ok bool) {
	out, err := e.srtpRx.DecryptRTP(e.rxPlain[:0], b, &e.rxHdr)
	if err != nil {
		switch classifySRTPError(err) {
		case srtpDropAuth:
			e.rxSRTPAuth.Add(1)
		case srtpDropReplay:
			e.rxSRTPReplay.Add(1)
		default:
			e.rxMalformed.Add(1)
		}
		if !e.srtpWarned {
			e.srtpWarned = true
			e.log.Warn("srtp: dropping a packet that does not unprotect", "remote", e.remote, "err", err)
		}
		return nil, false
	}
	e.rxPlain = out[:0]
	return out, true
}

// SetSRTP turns SRTP on with new keys (a re-INVITE may change them) or,
// with nil, off.
func (e *Endpoint) SetSRTP(s *SRTP) error {
	var tx, rx *srtp.Context
	if s != nil {
		var err error
		if tx, rx, err = srtpContexts(s); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.srtpRx = rx
	e.srtpWarned = false
	e.mu.Unlock()
	e.txCryptMu.Lock()
	e.srtpTx = tx
	e.txCryptMu.Unlock()
	return nil
}

// SRTPOn reports whether the endpoint protects its media.
func (e *Endpoint) SRTPOn() bool {
	e.txCryptMu.Lock()
	defer e.txCryptMu.Unlock()
	return e.srtpTx != nil
}
