// Package codec holds the sample types of the media engine and the G.711
// codecs (µ-law PCMU, payload type 0; A-law PCMA, payload type 8).
//
// Linear audio is always PCM16 and encoded audio is always Payload: the
// two types keep encoded bytes from reaching a stage that expects samples.
package codec

import (
	"fmt"
	"strings"
	"time"

	"github.com/zaf/g711"
)

// Telephony constants: every stream in the engine is 8 kHz mono with 20 ms frames.
const (
	SampleRate    = 8000
	FrameSamples  = 160
	FrameDuration = 20 * time.Millisecond
)

// PCM16 is linear 16-bit signed audio at 8 kHz, one int16 per sample.
type PCM16 []int16

// Payload is G.711-encoded audio: one byte per sample.
type Payload []byte

// Codec is a G.711 variant. Its value is its static RTP payload type.
type Codec uint8

// The supported codecs, valued by their RTP payload type (RFC 3551).
const (
	PCMU Codec = 0
	PCMA Codec = 8
)

// Parse returns the codec named by an SDP rtpmap encoding name ("PCMU",
// "PCMA", case-insensitive).
func Parse(name string) (Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU", "G711U", "ULAW":
		return PCMU, nil
	case "PCMA", "G711A", "ALAW":
		return PCMA, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownCodec, name)
}

// ForPayloadType returns the codec with the given static payload type.
func ForPayloadType(pt uint8) (Codec, error) {
	switch Codec(pt) {
	case PCMU, PCMA:
		return Codec(pt), nil
	}
	return 0, fmt.Errorf("%w: payload type %d", ErrUnknownCodec, pt)
}

// PayloadType is the static RTP payload type.
func (c Codec) PayloadType() uint8 { return uint8(c) }

// String returns the SDP encoding name.
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// Clamp maps -32768 to -32767. Negating -32768 overflows int16, which some
// G.711 encoders (older zaf/g711 among them) turn into near-silence; a
// symmetric range is safe for every encoder.
func Clamp(s int16) int16 {
	if s == -32768 {
		return -32767
	}
	return s
}

// Encode encodes src into dst and returns the number of bytes written,
// min(len(dst), len(src)). It does not allocate.
func (c Codec) Encode(dst Payload, src PCM16) int {
	n := min(len(dst), len(src))
	if c == PCMA {
		for i := 0; i < n; i++ {
			dst[i] = g711.EncodeAlawFrame(Clamp(src[i]))
		}
		return n
	}
	for i := 0; i < n; i++ {
		dst[i] = g711.EncodeUlawFrame(Clamp(src[i]))
	}
	return n
}

// Decode decodes src into dst and returns the number of samples written,
// min(len(dst), len(src)). It does not allocate.
func (c Codec) Decode(dst PCM16, src Payload) int {
	n := min(len(dst), len(src))
	if c == PCMA {
		for i := 0; i < n; i++ {
			dst[i] = g711.DecodeAlawFrame(src[i])
		}
		return n
	}
	for i := 0; i < n; i++ {
		dst[i] = g711.DecodeUlawFrame(src[i])
	}
	return n
}

// SilenceByte is the encoding of a zero sample, for filling silent payloads.
func (c Codec) SilenceByte() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}
