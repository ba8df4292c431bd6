// Package dtmf handles telephone digits in every form a call can carry
// them: RFC 4733 telephone-event packets (decode, encode, a Receiver that
// turns packets into digits and a Sender that plays a digit string), SIP
// INFO bodies, and in-band tones (a Goertzel Detector and a tone
// Generator).
//
// Everything here is driven by 20 ms ticks from the media clock rather
// than by timers, so thousands of calls cost no extra goroutines and tests
// advance time by calling Tick.
package dtmf

import "time"

// Digits are the 16 DTMF symbols in RFC 4733 event-code order (0-15).
const Digits = "0123456789*#ABCD"

// tickDuration is the media clock period.
const tickDuration = 20 * time.Millisecond

// Code returns the RFC 4733 event code of a digit (0-9 * # A-D, a-d).
func Code(digit byte) (uint8, bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', true
	case digit == '*':
		return 10, true
	case digit == '#':
		return 11, true
	case digit >= 'A' && digit <= 'D':
		return digit - 'A' + 12, true
	case digit >= 'a' && digit <= 'd':
		return digit - 'a' + 12, true
	}
	return 0, false
}

// Digit returns the digit of an RFC 4733 event code 0-15.
func Digit(code uint8) (byte, bool) {
	if int(code) >= len(Digits) {
		return 0, false
	}
	return Digits[code], true
}

// Source says how a digit reached us.
type Source uint8

// Digit sources.
const (
	SourceRFC4733 Source = iota + 1
	SourceInband
	SourceSIPInfo
)

func (s Source) String() string {
	switch s {
	case SourceRFC4733:
		return "rfc4733"
	case SourceInband:
		return "inband"
	case SourceSIPInfo:
		return "sip-info"
	}
	return "unknown"
}

// Received is one detected digit.
type Received struct {
	Digit    byte
	Duration time.Duration
	Source   Source
}
