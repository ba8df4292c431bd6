package dtmf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseInfo decodes the body of a SIP INFO request carrying a digit:
// "application/dtmf-relay" ("Signal=5\r\nDuration=160", duration in ms) or
// "application/dtmf" ("5"). contentType may carry parameters. A missing or
// unparsable duration gives DefaultToneDuration.
func ParseInfo(contentType string, body []byte) (Received, error) {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	r := Received{Duration: DefaultToneDuration, Source: SourceSIPInfo}
	switch ct {
	case "application/dtmf":
		s := strings.TrimSpace(string(body))
		if len(s) != 1 {
			return Received{}, fmt.Errorf("%w: body %q", ErrBadBody, s)
		}
		d, err := parseSignal(s)
		if err != nil {
			return Received{}, err
		}
		r.Digit = d
		return r, nil
	case "application/dtmf-relay":
	default:
		return Received{}, fmt.Errorf("%w: content type %q", ErrBadBody, contentType)
	}
	found := false
	for _, line := range strings.FieldsFunc(string(body), func(c rune) bool { return c == '\r' || c == '\n' }) {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "signal":
			d, err := parseSignal(value)
			if err != nil {
				return Received{}, err
			}
			r.Digit = d
			found = true
		case "duration":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 && ms <= 60000 {
				r.Duration = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if !found {
		return Received{}, fmt.Errorf("%w: no signal", ErrBadBody)
	}
	return r, nil
}

// parseSignal accepts a digit character or an event code 10-15 (some
// gateways send "Signal=10" for '*' and "Signal=11" for '#').
func parseSignal(s string) (byte, error) {
	if len(s) == 1 {
		if _, ok := Code(s[0]); ok {
			c := s[0]
			if c >= 'a' && c <= 'd' {
				c -= 'a' - 'A'
			}
			return c, nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n <= 15 {
		return Digits[n], nil
	}
	return 0, fmt.Errorf("%w: signal %q", ErrBadBody, s)
}
