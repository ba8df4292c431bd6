// Package denoise is the VoiceFocus media stage: a media.Filter that runs
// a 48 kHz noise suppressor (RNNoise's frame interface: 480 samples,
// 10 ms, int16-scaled floats) on a leg's 8 kHz audio. Each 20 ms frame is
// upsampled by 6 with a polyphase low-pass filter, suppressed as two
// 10 ms frames, low-passed and decimated back. The suppressor itself is
// behind an interface: media does not know how it runs (host/voicefocus
// runs RNNoise as sandboxed Wasm).
package denoise

import (
	"math"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// FrameSize is the suppressor's frame: 10 ms at 48 kHz.
const FrameSize = 480

// Suppressor denoises 48 kHz frames of FrameSize samples, in int16 scale,
// keeping its own state from frame to frame.
type Suppressor interface {
	// Process writes the denoised in to out.
	Process(out, in []float32) error
	// Close frees the suppressor.
	Close() error
}

const (
	ratio = 6  // 48 kHz / 8 kHz
	taps  = 24 // per phase
	n48   = codec.FrameSamples * ratio
)

// lowpass is a Blackman-windowed sinc at 48 kHz, cut off at 4 kHz, with
// taps*ratio coefficients and unit gain at DC.
var lowpass = func() [taps * ratio]float32 {
	var h [taps * ratio]float32
	const fc = 4000.0 / 48000
	n := float64(len(h))
	var sum float64
	hs := make([]float64, len(h))
	for i := range hs {
		x := float64(i) - (n-1)/2
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(n-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(n-1))
		hs[i] = s * w
		sum += hs[i]
	}
	for i := range h {
		h[i] = float32(hs[i] / sum)
	}
	return h
}()

// Stage is the VoiceFocus filter of one leg. Not safe for concurrent use:
// the endpoint calls it from one tick at a time.
type Stage struct {
	s      Suppressor
	hist8  [taps]float32             // last input samples at 8 kHz, newest last
	up     [n48]float32              // this frame at 48 kHz
	out    [n48]float32              // suppressed
	hist48 [taps*ratio + n48]float32 // suppressed history for decimation
	err    error
}

// New returns a stage over s; Close closes s.
func New(s Suppressor) *Stage { return &Stage{s: s} }

// Err is the suppressor's first error; from then on the stage passes
// audio through unchanged.
func (st *Stage) Err() error { return st.err }

// Close frees the suppressor.
func (st *Stage) Close() error { return st.s.Close() }

// FilterFrame implements media.Filter.
func (st *Stage) FilterFrame(pcm codec.PCM16) {
	if st.err != nil || len(pcm) != codec.FrameSamples {
		return
	}
	// Upsample: y[6n+p] = 6 · Σk h[6k+p] · x[n−k].
	var x [taps + codec.FrameSamples]float32
	copy(x[:taps], st.hist8[:])
	for i, v := range pcm {
		x[taps+i] = float32(v)
	}
	copy(st.hist8[:], x[codec.FrameSamples:])
	for n := range codec.FrameSamples {
		for p := range ratio {
			var acc float32
			for k := range taps {
				acc += lowpass[k*ratio+p] * x[taps+n-k]
			}
			st.up[n*ratio+p] = acc * ratio
		}
	}
	for i := 0; i < n48; i += FrameSize {
		if err := st.s.Process(st.out[i:i+FrameSize], st.up[i:i+FrameSize]); err != nil {
			st.err = err
			return
		}
	}
	// Low-pass and decimate: z[n] = Σj h[j] · y[6n+5−j] over the history.
	const hl = taps * ratio
	copy(st.hist48[:hl], st.hist48[n48:])
	copy(st.hist48[hl:], st.out[:])
	for n := range codec.FrameSamples {
		var acc float32
		base := hl + n*ratio + ratio - 1
		for j := range hl {
			acc += lowpass[j] * st.hist48[base-j]
		}
		pcm[n] = int16(max(-32767, min(32767, acc)))
	}
}
