package wav

import "errors"

var (
	// ErrNotWAV is returned when the RIFF/WAVE header is missing.
	ErrNotWAV = errors.New("not a wav file")
	// ErrNoFormat is returned when no fmt chunk precedes the data.
	ErrNoFormat = errors.New("wav fmt chunk missing")
	// ErrBadFormat is returned for a malformed fmt chunk.
	ErrBadFormat = errors.New("wav fmt chunk malformed")
	// ErrNoData is returned when the file has no data chunk.
	ErrNoData = errors.New("wav data chunk missing")
	// ErrUnsupported is returned for an encoding this package cannot read.
	ErrUnsupported = errors.New("unsupported wav encoding")
	// ErrTooLarge is returned for audio data over MaxDataBytes or 4 GiB.
	ErrTooLarge = errors.New("wav data too large")
	// ErrClosed is returned by a Writer after Close.
	ErrClosed = errors.New("wav writer closed")
	// ErrChannels is returned for a channel count a Writer cannot write.
	ErrChannels = errors.New("wav writer supports 1 or 2 channels")
)
