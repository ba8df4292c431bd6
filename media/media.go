// Package media is the media engine: per-call-leg RTP endpoints driven by
// one shared 20 ms Clock, with small stages attached to them — a Player
// (prompt out), a Recorder and a SilenceDetector (audio in), DTMF in and
// out — and a PromptCache that decodes each prompt file once for all calls.
// A Bridge connects two legs (relaying G.711 bytes when the codecs match)
// and a Mixer is a conference room; both drive their endpoints' ticks.
//
// Sub-packages hold the pieces that know nothing of sockets: codec (G.711,
// sample types), jitter (the jitter buffer), dtmf (RFC 4733, SIP INFO,
// Goertzel detection, tone generation) and wav (reading, writing, repair).
//
// Callbacks (digits, playback finished, recording done, silence) run on
// media goroutines: they must not block. Hand the event to your own
// goroutine, typically with a non-blocking send on a buffered channel.
// See README.md.
package media

import (
	"github.com/wasmvoice/mediaserver/media/codec"
)

// Source produces the audio an endpoint sends, one 20 ms frame per tick.
type Source interface {
	// ReadFrame fills dst (codec.FrameSamples samples) and reports whether
	// the source produced audio; false means it has ended and is detached.
	ReadFrame(dst codec.PCM16) bool
}

// encodedSource is a Source that can also hand out its next frame
// already encoded (a Player: its prompt is encoded once per codec). The
// endpoint uses it when nothing needs the samples it sends.
type encodedSource interface {
	readEncoded(c codec.Codec) ([]byte, bool)
}

// Sink receives, once per tick, the frame an endpoint received (after the
// jitter buffer; silence when nothing arrived) and the frame it sent.
// The frames are only valid during the call. WriteFrame runs on the clock
// goroutine and must not block.
type Sink interface {
	WriteFrame(received, sent codec.PCM16)
}

// Reason says why a player or recorder ended.
type Reason uint8

// End reasons.
const (
	ReasonFinished Reason = iota + 1 // the prompt played to its end
	ReasonStopped                    // Stop was called
	ReasonDuration                   // a recorder reached its maximum duration
	ReasonError                      // a write failed
)

func (r Reason) String() string {
	switch r {
	case ReasonFinished:
		return "finished"
	case ReasonStopped:
		return "stopped"
	case ReasonDuration:
		return "duration"
	case ReasonError:
		return "error"
	}
	return "unknown"
}
