package dtmf

import "errors"

var (
	// ErrShortPacket is returned for a telephone-event payload under 4 bytes.
	ErrShortPacket = errors.New("telephone-event payload too short")
	// ErrBadDigit is returned for a character that is not 0-9 * # A-D or ','.
	ErrBadDigit = errors.New("invalid dtmf digit")
	// ErrBadDuration is returned for a tone duration outside 40 ms..24 s.
	ErrBadDuration = errors.New("invalid tone duration")
	// ErrBusy is returned when a Sender is asked to start while playing.
	ErrBusy = errors.New("dtmf sender busy")
	// ErrTooLong is returned for a digit string over MaxDigits characters.
	ErrTooLong = errors.New("digit string too long")
)
