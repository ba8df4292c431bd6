package denoise

import (
	"errors"
	"math"
	"testing"

	"github.com/wasmvoice/mediaserver/media/codec"
)

type passThrough struct{ frames int }

func (p *passThrough) Process(out, in []float32) error {
	if len(in) != FrameSize || len(out) != FrameSize {
		return errors.New("bad frame size")
	}
	p.frames++
	copy(out, in)
	return nil
}
func (p *passThrough) Close() error { return nil }

type failing struct{}

func (failing) Process(out, in []float32) error { return errors.New("trap") }
func (failing) Close() error                    { return nil }

// With a suppressor that changes nothing, the stage is the resampling
// alone: voice-band tones come out at their level, delayed a little.
func TestStageResamplesTransparently(t *testing.T) {
	for _, freq := range []float64{300, 1000, 3000} {
		p := &passThrough{}
		st := New(p)
		in := make(codec.PCM16, codec.SampleRate)
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(i)/codec.SampleRate))
		}
		out := make(codec.PCM16, 0, len(in))
		for i := 0; i < len(in); i += codec.FrameSamples {
			f := append(codec.PCM16(nil), in[i:i+codec.FrameSamples]...)
			st.FilterFrame(f)
			out = append(out, f...)
		}
		if p.frames != 2*len(in)/codec.FrameSamples {
			t.Fatalf("%d suppressor frames", p.frames)
		}
		// Best lag within 5 ms, then the residual against the input.
		best, lag := math.Inf(1), 0
		for d := 0; d < 40; d++ {
			var e float64
			for i := 4000; i < 7000; i++ {
				x := float64(out[i+d]) - float64(in[i])
				e += x * x
			}
			if e < best {
				best, lag = e, d
			}
		}
		var sig float64
		for i := 4000; i < 7000; i++ {
			sig += float64(in[i]) * float64(in[i])
		}
		if snr := 10 * math.Log10(sig/best); snr < 30 || lag > 30 {
			t.Errorf("%v Hz: %.1f dB SNR at lag %d", freq, snr, lag)
		}
	}
}

func TestStageStopsOnError(t *testing.T) {
	st := New(failing{})
	f := make(codec.PCM16, codec.FrameSamples)
	for i := range f {
		f[i] = 1000
	}
	st.FilterFrame(f)
	if st.Err() == nil {
		t.Fatal("no error")
	}
	g := append(codec.PCM16(nil), f...)
	st.FilterFrame(g)
	for i := range g {
		if g[i] != 1000 {
			t.Fatal("audio changed after the suppressor failed")
		}
	}
}
