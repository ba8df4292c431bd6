package mediaserver

import (
	"errors"
	"strconv"
)

// Errors of the host functions (the ABI's negative status codes) and of the
// event decoder.
var (
	ErrTooLarge       = errors.New("mediaserver: payload too large")
	ErrAlreadyWritten = errors.New("mediaserver: response already written")
	ErrBadPointer     = errors.New("mediaserver: bad pointer")
	ErrNotFound       = errors.New("mediaserver: not found")
	ErrQuota          = errors.New("mediaserver: quota exceeded")
	ErrUnavailable    = errors.New("mediaserver: host function unavailable")
	ErrInternal       = errors.New("mediaserver: host internal error")
	ErrUnknownStatus  = errors.New("mediaserver: unknown host status")

	// ErrNoHandler is returned when an event arrives before Handle was called.
	ErrNoHandler = errors.New("mediaserver: no handler registered")
	// ErrHandler wraps an error returned by the plugin's handler.
	ErrHandler = errors.New("mediaserver: handler failed")
	// ErrWrongAnswer: an iotcomms handler answered a callback with the
	// other kind of answer (an *IotAnswer to getIvrCommand, an *IvrCommand
	// to newCall or callEvent).
	ErrWrongAnswer = errors.New("mediaserver: wrong kind of answer for the callback")
	// ErrCallback: a webhook request's body names another callback than
	// its path.
	ErrCallback = errors.New("mediaserver: the body's callback is not the path's")

	// ErrSyntax: the JSON is malformed.
	ErrSyntax = errors.New("json: invalid syntax")
	// ErrType: a JSON value has the wrong type for its field.
	ErrType = errors.New("json: value of the wrong type")
	// ErrTooDeep: the JSON nests deeper than the decoder allows.
	ErrTooDeep = errors.New("json: nested too deeply")
)

// JSONError locates a decoding error in the event JSON.
type JSONError struct {
	Offset int   // byte offset in the input
	Err    error // ErrSyntax, ErrType, ErrTooDeep or a number parse error
}

func (e *JSONError) Error() string {
	return e.Err.Error() + " at offset " + itoa(e.Offset)
}

func (e *JSONError) Unwrap() error { return e.Err }

// statusError maps a host status code (abi.ErrCode) to its sentinel.
func statusError(code int32) error {
	switch code {
	case -1:
		return ErrTooLarge
	case -2:
		return ErrAlreadyWritten
	case -3:
		return ErrBadPointer
	case -4:
		return ErrNotFound
	case -5:
		return ErrQuota
	case -6:
		return ErrUnavailable
	case -7:
		return ErrInternal
	}
	return ErrUnknownStatus
}

func itoa(n int) string {
	var b [20]byte
	return string(strconv.AppendInt(b[:0], int64(n), 10))
}
