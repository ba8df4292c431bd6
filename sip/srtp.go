package sip

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// SRTPPolicy says what a listener or a trunk does with SRTP (RFC 3711)
// keyed by SDES (RFC 4568): off, optional or mandatory.
type SRTPPolicy int

// The three SRTP policies.
const (
	// SRTPOff offers and answers plain RTP only: an offer that needs SRTP
	// (RTP/SAVP) gets 488.
	SRTPOff SRTPPolicy = iota
	// SRTPOptional answers SRTP when the offer has a usable a=crypto
	// (RTP/SAVP, or RTP/AVP with a=crypto: "best effort SRTP") and plain
	// RTP otherwise; it offers RTP/AVP with a=crypto.
	SRTPOptional
	// SRTPMandatory answers and offers SRTP only (RTP/SAVP); an offer or
	// an answer without a usable a=crypto is refused.
	SRTPMandatory
)

// ParseSRTPPolicy reads "off", "optional" or "mandatory" ("" is off).
func ParseSRTPPolicy(s string) (SRTPPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off":
		return SRTPOff, nil
	case "optional":
		return SRTPOptional, nil
	case "mandatory":
		return SRTPMandatory, nil
	}
	return SRTPOff, fmt.Errorf("%w: %q (want off, optional or mandatory)", ErrSRTPPolicy, s)
}

func (p SRTPPolicy) String() string {
	switch p {
	case SRTPOptional:
		return "optional"
	case SRTPMandatory:
		return "mandatory"
	}
	return "off"
}

// The SDES crypto suites we support (RFC 4568 section 6.2), in our order
// of preference. Both use a 128-bit master key and a 112-bit salt.
const (
	SuiteAES128SHA1_80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAES128SHA1_32 = "AES_CM_128_HMAC_SHA1_32"
)

// SRTPKeyLen is the length of an SDES key: master key (16) || salt (14).
const SRTPKeyLen = 30

// SRTP is the keying of one negotiated SRTP stream pair. The zero value
// (Suite "") means plain RTP. It is comparable, so a changed key shows
// as a changed Media.
type SRTP struct {
	Suite string // SuiteAES128SHA1_80 or SuiteAES128SHA1_32
	// Local is our key: we encrypt what we send with it (the peer got
	// it in our SDP). Remote is the peer's: we decrypt with it.
	Local, Remote [SRTPKeyLen]byte
}

// On reports whether the stream is SRTP.
func (s SRTP) On() bool { return s.Suite != "" }

// Crypto is one SDES a=crypto attribute (RFC 4568 section 9.1) of a suite
// we support, with a single inline key and no MKI.
type Crypto struct {
	Tag   int
	Suite string
	Key   [SRTPKeyLen]byte
}

// maxCryptoLen bounds an a=crypto value; real ones are under 100 bytes.
const maxCryptoLen = 1024

// ParseCrypto parses the value of an a=crypto attribute:
//
//	<tag> <crypto-suite> inline:<base64 key||salt>[|<lifetime>] [<session-params>]
//
// It refuses (ErrCrypto, wrapped) what it cannot use: an unknown suite,
// a key of the wrong length, several keys or an MKI, and the session
// parameters that weaken SRTP (UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, a
// non-zero KDR) or that we do not implement (FEC_ORDER, FEC_KEY). The
// lifetime is accepted and not enforced: a call never sends 2^31 packets.
func ParseCrypto(value string) (Crypto, error) {
	var c Crypto
	if len(value) > maxCryptoLen {
		return c, fmt.Errorf("%w: %d bytes", ErrCrypto, len(value))
	}
	f := strings.Fields(value)
	if len(f) < 3 {
		return c, fmt.Errorf("%w: want tag, suite and key parameters", ErrCrypto)
	}
	if len(f[0]) > 9 {
		return c, fmt.Errorf("%w: tag %q", ErrCrypto, f[0])
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || f[0][0] == '+' || f[0][0] == '-' {
		return c, fmt.Errorf("%w: tag %q", ErrCrypto, f[0])
	}
	c.Tag = tag
	switch f[1] {
	case SuiteAES128SHA1_80, SuiteAES128SHA1_32:
		c.Suite = f[1]
	default:
		return c, fmt.Errorf("%w: unsupported suite %q", ErrCrypto, f[1])
	}
	if strings.Contains(f[2], ";") {
		return c, fmt.Errorf("%w: several keys", ErrCrypto)
	}
	inline, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return c, fmt.Errorf("%w: key method %q, want inline", ErrCrypto, f[2])
	}
	parts := strings.Split(inline, "|")
	if len(parts) > 3 {
		return c, fmt.Errorf("%w: key parameters %q", ErrCrypto, f[2])
	}
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			return c, fmt.Errorf("%w: MKI not supported", ErrCrypto)
		}
		if !validLifetime(p) {
			return c, fmt.Errorf("%w: key lifetime %q", ErrCrypto, p)
		}
	}
	if len(parts) == 3 {
		return c, fmt.Errorf("%w: key parameters %q", ErrCrypto, f[2])
	}
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		// Some endpoints leave the padding out.
		key, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	}
	if err != nil || len(key) != SRTPKeyLen {
		return c, fmt.Errorf("%w: key of %d bytes, want %d", ErrCrypto, len(key), SRTPKeyLen)
	}
	copy(c.Key[:], key)
	for _, p := range f[3:] {
		name, val, _ := strings.Cut(p, "=")
		switch name {
		case "WSH": // replay window size hint: ours is fixed
		case "KDR":
			if val != "0" {
				return c, fmt.Errorf("%w: key derivation rate %q not supported", ErrCrypto, val)
			}
		default:
			return c, fmt.Errorf("%w: session parameter %q not supported", ErrCrypto, name)
		}
	}
	return c, nil
}

// validLifetime is RFC 4568's lifetime: decimal digits or "2^" digits.
func validLifetime(s string) bool {
	s = strings.TrimPrefix(s, "2^")
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String is the attribute value: "<tag> <suite> inline:<key>".
func (c Crypto) String() string {
	return strconv.Itoa(c.Tag) + " " + c.Suite + " inline:" + base64.StdEncoding.EncodeToString(c.Key[:])
}

// newCrypto makes a crypto line with a fresh random key.
func newCrypto(tag int, suite string) Crypto {
	c := Crypto{Tag: tag, Suite: suite}
	if _, err := rand.Read(c.Key[:]); err != nil {
		// crypto/rand does not fail on Linux; never send a weak key.
		panic("sip: no randomness for an srtp key: " + err.Error())
	}
	return c
}

// offerCryptos are the crypto lines of our offers: both suites, each
// with its own key, the stronger tag first.
func offerCryptos() []Crypto {
	return []Crypto{newCrypto(1, SuiteAES128SHA1_80), newCrypto(2, SuiteAES128SHA1_32)}
}

// cryptosOf returns the a=crypto attributes of a media section that we
// can use, in the order given (the offerer's preference), and how many
// there were in all.
func cryptosOf(md *sdp.MediaDescription) (usable []Crypto, all int) {
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		all++
		if c, err := ParseCrypto(a.Value); err == nil {
			usable = append(usable, c)
		}
	}
	return usable, all
}

// secureProto reports whether an m= line's transport is SRTP.
func secureProto(proto string) bool { return proto == "RTP/SAVP" || proto == "RTP/SAVPF" }
