package media

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/mp3"
	"github.com/wasmvoice/mediaserver/media/wav"
)

// ErrUnknownFormat is returned for audio that is neither WAV nor mp3.
var ErrUnknownFormat = errors.New("unknown audio format (want WAV or mp3)")

// DecodeAudio decodes a prompt file's bytes by their content: WAV (PCM of
// any rate, width and channel count, float, µ-law, A-law) or mp3, into
// 8 kHz mono.
func DecodeAudio(data []byte) (codec.PCM16, error) {
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		pcm, _, err := wav.Decode(bytes.NewReader(data))
		return pcm, err
	case mp3.Sniff(data):
		return mp3.Decode(data)
	}
	return nil, fmt.Errorf("%w: %w (starts with % x)", ErrUnknownFormat, wav.ErrNotWAV, data[:min(len(data), 4)])
}
