package media

import (
	"math"

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

// SilenceDetector is a Sink that reports when the received audio goes
// under the threshold (report(true)) and back above it (report(false)).
// Whoever listens times the silence (the call engine, for RecordAudio's
// SilenceDurationInSeconds, on its own clock). Audio that is silent from
// the start is reported at once; audible audio from the start is not
// reported until it falls silent. report runs on the clock goroutine and
// must not block.
type SilenceDetector struct {
	threshold float64
	report    func(silent bool)
	started   bool
	silent    bool
}

// NewSilenceDetector reports silence at the Chime-scale threshold (see
// ThresholdDBFS).
func NewSilenceDetector(threshold int, report func(silent bool)) *SilenceDetector {
	return &SilenceDetector{threshold: ThresholdDBFS(threshold), report: report}
}

// WriteFrame implements Sink; only the received frame matters.
func (s *SilenceDetector) WriteFrame(received, _ codec.PCM16) {
	silent := FrameDBFS(received) < s.threshold
	if s.started && silent == s.silent {
		return
	}
	if !s.started && !silent {
		s.started = true // audible from the start: nothing to report yet
		return
	}
	s.started, s.silent = true, silent
	s.report(silent)
}

// String describes the stage.
func (s *SilenceDetector) String() string { return "silence-detector" }
