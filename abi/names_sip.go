package abi

import "strings"

// IsE164 reports whether s is an E.164 number: '+', a non-zero digit, then
// 1 to 14 digits (+15550100).
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsSIPToken reports whether s is a SIP token of at most 256 bytes, the
// form of a header name (RFC 3261 section 25.1), so a name can never
// smuggle a line break or a colon into a message.
func IsSIPToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte("-.!%*_+`'~", b) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// PassedSipHeader reports whether Chime passes a SIP header between calls
// and handlers: X-… headers, User-to-User and Diversion (case-insensitive).
// Only these reach Participants[].SipHeaders and leave on an INVITE.
func PassedSipHeader(name string) bool {
	return len(name) > 2 && strings.EqualFold(name[:2], "X-") ||
		strings.EqualFold(name, "User-to-User") || strings.EqualFold(name, "Diversion")
}
