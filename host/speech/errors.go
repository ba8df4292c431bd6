package speech

import "errors"

var (
	// ErrNoEngine is returned when the embedded engine's Wasm file is
	// missing or cannot be compiled.
	ErrNoEngine = errors.New("speech engine unavailable")
	// ErrSynthesis is returned when a provider fails to synthesise a text.
	ErrSynthesis = errors.New("speech synthesis failed")
	// ErrText is returned for a text that cannot be spoken (empty, too long).
	ErrText = errors.New("invalid text to speak")
	// ErrHTTP is returned when the HTTP provider's endpoint fails.
	ErrHTTP = errors.New("http text-to-speech endpoint failed")
)
