package media

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// ThresholdDBFS maps Chime's SilenceThreshold scale [1;1000] to a level in
// dBFS below which a frame counts as silent.
//
// Chime documents 1 as about 30 dB (a quiet room) and 1000 as about 75 dB
// (a loud place). We read that as sound pressure level, spread linearly
// over the scale (so the default 200 is ≈ 39 dB SPL, a quiet office), and
// map SPL to the line with 80 dB SPL ≈ 0 dBFS: conversational speech at
// 60 dB SPL then lands at -20 dBFS, the nominal telephone speech level
// (ITU-T P.56 active speech ≈ -26 dBov .. -16 dBov). Result: 1 → -50 dBFS,
// 200 → -41 dBFS, 1000 → -5 dBFS. Values outside [1;1000] are clamped.
func ThresholdDBFS(threshold int) float64 {
	t := float64(max(1, min(1000, threshold)))
	spl := 30 + 45*(t-1)/999
	return spl - 80
}

// FrameDBFS returns the RMS level of a frame in dBFS (-120 for digital silence).
func FrameDBFS(f codec.PCM16) float64 {
	if len(f) == 0 {
		return -120
	}
	var sum float64
	for _, v := range f {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum / float64(len(f)))
	if rms < 1e-3 {
		return -120
	}
	return max(-120, 20*math.Log10(rms/32767))
}

// SilenceDetector is a Sink that watches the received audio and calls
// onSilence once each time the caller has been silent for After (it
// re-arms when sound returns). onSilence runs on the clock goroutine and
// must not block.
type SilenceDetector struct {
	threshold float64
	afterFr   int64
	run       atomic.Int64 // consecutive silent frames
	fired     bool
	onSilence func(time.Duration)
}

// NewSilenceDetector watches for after of audio under the Chime-scale threshold.
func NewSilenceDetector(threshold int, after time.Duration, onSilence func(time.Duration)) *SilenceDetector {
	return &SilenceDetector{
		threshold: ThresholdDBFS(threshold),
		afterFr:   max(1, int64(after/codec.FrameDuration)),
		onSilence: onSilence,
	}
}

// WriteFrame implements Sink; only the received frame matters.
func (s *SilenceDetector) WriteFrame(received, _ codec.PCM16) {
	if FrameDBFS(received) >= s.threshold {
		s.run.Store(0)
		s.fired = false
		return
	}
	n := s.run.Add(1)
	if n >= s.afterFr && !s.fired {
		s.fired = true
		if s.onSilence != nil {
			s.onSilence(time.Duration(n) * codec.FrameDuration)
		}
	}
}

// SilentFor returns how long the received audio has been silent.
func (s *SilenceDetector) SilentFor() time.Duration {
	return time.Duration(s.run.Load()) * codec.FrameDuration
}

// String describes the stage.
func (s *SilenceDetector) String() string { return "silence-detector" }
