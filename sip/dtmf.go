package sip

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DTMF is one digit received in a SIP INFO request.
type DTMF struct {
	Digit    rune // '0'-'9', '*', '#', 'A'-'D', or '!' for flash
	Duration time.Duration
}

// ParseDTMFInfo parses the body of an INFO request. contentType is
// application/dtmf-relay ("Signal=5\r\nDuration=160", duration in ms) or
// application/dtmf (just the digit, or an RFC 4733 event number).
func ParseDTMFInfo(contentType string, body []byte) (DTMF, error) {
	mediaType, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case "application/dtmf-relay":
		var d DTMF
		for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\r' || r == '\n' }) {
			key, val, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			val = strings.TrimSpace(val)
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "signal":
				r, err := dtmfDigit(val)
				if err != nil {
					return DTMF{}, err
				}
				d.Digit = r
			case "duration":
				ms, err := strconv.Atoi(val)
				if err != nil || ms < 0 || ms > 60000 {
					return DTMF{}, fmt.Errorf("%w: duration %q", ErrDTMFMalformed, val)
				}
				d.Duration = time.Duration(ms) * time.Millisecond
			}
		}
		if d.Digit == 0 {
			return DTMF{}, fmt.Errorf("%w: no signal", ErrDTMFMalformed)
		}
		return d, nil
	case "application/dtmf":
		r, err := dtmfDigit(strings.TrimSpace(string(body)))
		if err != nil {
			return DTMF{}, err
		}
		return DTMF{Digit: r}, nil
	}
	return DTMF{}, fmt.Errorf("%w: content type %q", ErrDTMFMalformed, contentType)
}

// dtmfDigit accepts a digit character or an RFC 4733 event number (0-16).
func dtmfDigit(s string) (rune, error) {
	const events = "0123456789*#ABCD!"
	if len(s) == 1 {
		c := rune(strings.ToUpper(s)[0])
		if strings.ContainsRune(events, c) {
			return c, nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n < len(events) {
		return rune(events[n]), nil
	}
	return 0, fmt.Errorf("%w: signal %q", ErrDTMFMalformed, s)
}
