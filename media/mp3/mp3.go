// Package mp3 decodes MPEG-1/2 Layer III audio into 8 kHz mono, the
// prompts' form, with github.com/hajimehoshi/go-mp3 (pure Go, no cgo).
package mp3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

var (
	// ErrInvalid is returned for data that is not decodable mp3.
	ErrInvalid = errors.New("invalid mp3")
	// ErrTooLarge is returned when the decoded audio would exceed MaxPCMBytes.
	ErrTooLarge = errors.New("mp3 audio too large")
)

// MaxPCMBytes bounds the decoded 16-bit stereo audio at the source rate
// (about 6 minutes at 44.1 kHz), so a small file cannot expand without
// limit.
const MaxPCMBytes = 64 << 20

// Sniff reports whether b starts like an mp3 file: an ID3v2 tag or an
// MPEG audio frame header.
func Sniff(b []byte) bool {
	if len(b) >= 3 && string(b[:3]) == "ID3" {
		return true
	}
	return len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && (b[1]>>1)&3 == 1 // layer III
}

// Decode decodes a whole mp3 file into 8 kHz mono.
func Decode(data []byte) (pcm codec.PCM16, err error) {
	defer func() {
		// The decoder indexes tables with values from the stream; a
		// malformed file must be an error, never a crash.
		if r := recover(); r != nil {
			pcm, err = nil, fmt.Errorf("%w: %v", ErrInvalid, r)
		}
	}()
	d, err := gomp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	rate := d.SampleRate()
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("%w: sample rate %d", ErrInvalid, rate)
	}
	raw, err := io.ReadAll(io.LimitReader(d, MaxPCMBytes+1))
	if err != nil && len(raw) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(raw) > MaxPCMBytes {
		return nil, ErrTooLarge
	}
	n := len(raw) / 4 // 16-bit little-endian stereo
	if n == 0 {
		return nil, fmt.Errorf("%w: no audio frames", ErrInvalid)
	}
	mono := make([]float64, n)
	for i := range mono {
		l := int16(binary.LittleEndian.Uint16(raw[4*i:]))
		r := int16(binary.LittleEndian.Uint16(raw[4*i+2:]))
		mono[i] = (float64(l) + float64(r)) / 2
	}
	if rate != codec.SampleRate {
		mono = wav.Resample(mono, rate, codec.SampleRate)
	}
	out := make(codec.PCM16, len(mono))
	for i, v := range mono {
		out[i] = int16(max(-32767, min(32767, v)))
	}
	return out, nil
}
