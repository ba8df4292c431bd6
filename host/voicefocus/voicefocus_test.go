package voicefocus

import (
	"context"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/internal/assets"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/denoise"
	"github.com/wasmvoice/mediaserver/media/dtmf"
	"github.com/wasmvoice/mediaserver/media/wav"
)

var (
	engOnce sync.Once
	eng     *Engine
	engErr  error
)

func testEngine(t testing.TB) *Engine {
	t.Helper()
	engOnce.Do(func() {
		p, err := assets.Path("rnnoise.wasm")
		if err != nil {
			engErr = err
			return
		}
		eng, engErr = New(context.Background(), Config{Wasm: p, Instances: 2})
	})
	if engErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("rnnoise: %v", engErr)
		}
		t.Skipf("rnnoise: %v", engErr)
	}
	return eng
}

// speech makes 8 kHz speech with espeak-ng (a tool nobody here wrote).
func speech(t testing.TB, text string) codec.PCM16 {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("espeak-ng not found (Debian package espeak-ng): %v", err)
		}
		t.Skip("espeak-ng not installed")
	}
	path := filepath.Join(t.TempDir(), "s.wav")
	if out, err := exec.Command(bin, "-w", path, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	pcm, _, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// run passes x through a fresh VoiceFocus stage, frame by frame.
func run(t testing.TB, x []float64) []float64 {
	t.Helper()
	s, err := testEngine(t).NewSuppressor()
	if err != nil {
		t.Fatal(err)
	}
	st := denoise.New(s)
	defer st.Close()
	frame := make(codec.PCM16, codec.FrameSamples)
	var y []float64
	for i := 0; i+codec.FrameSamples <= len(x); i += codec.FrameSamples {
		for j := range frame {
			frame[j] = int16(max(-32767, min(32767, x[i+j])))
		}
		st.FilterFrame(frame)
		for _, v := range frame {
			y = append(y, float64(v))
		}
	}
	if st.Err() != nil {
		t.Fatal(st.Err())
	}
	return y
}

// align finds the delay of y against ref (0..50 ms) and returns the gain
// and the residual's power: y ≈ g·ref(delayed) + residual.
func align(ref, y []float64) (delay int, g, sig, res float64) {
	best := -1.0
	for d := 0; d <= 400; d++ {
		var xy, yy, xx float64
		for i := 0; i+d < len(y) && i < len(ref); i++ {
			xy += ref[i] * y[i+d]
			xx += ref[i] * ref[i]
			yy += y[i+d] * y[i+d]
		}
		if c := xy / math.Sqrt(xx*yy+1e-9); c > best {
			best, delay, g = c, d, xy/(xx+1e-9)
		}
	}
	for i := 0; i+delay < len(y) && i < len(ref); i++ {
		s := g * ref[i]
		e := y[i+delay] - s
		sig += s * s
		res += e * e
	}
	return delay, g, sig, res
}

func db(x float64) float64 { return 10 * math.Log10(x) }

func TestVoiceFocusRemovesNoise(t *testing.T) {
	clean := speech(t, "Please say your account number after the tone. Thank you for calling.")
	s := make([]float64, len(clean)+8000) // half a second of trailing silence
	for i, v := range clean {
		s[i] = float64(v)
	}
	var ps float64
	for _, v := range s {
		ps += v * v
	}
	// White noise 5 dB under the speech (over the whole signal).
	r := rand.New(rand.NewSource(1))
	sigma := math.Sqrt(ps / float64(len(s)) / math.Pow(10, 0.5))
	noisy := make([]float64, len(s))
	var pn float64
	for i := range s {
		n := r.NormFloat64() * sigma
		pn += n * n
		noisy[i] = s[i] + n
	}
	snrIn := db(ps / pn)
	y := run(t, noisy)
	d, g, sig, res := align(s, y)
	snrOut := db(sig / res)
	t.Logf("noisy: SNR in %.1f dB, out %.1f dB (gain %.1f dB), delay %d samples, speech gain %.2f", snrIn, snrOut, snrOut-snrIn, d, g)
	// The residual counts the suppressor's distortion of the speech as
	// noise too, so this is a conservative SNR.
	if snrOut-snrIn < 4 {
		t.Fatalf("SNR gain %.1f dB, want at least 4", snrOut-snrIn)
	}
	// The trailing half second is noise only: it must be much quieter.
	var tailIn, tailOut float64
	for i := len(clean) + 1600; i < len(s)-800 && i+d < len(y); i++ {
		tailIn += noisy[i] * noisy[i]
		tailOut += y[i+d] * y[i+d]
	}
	if red := db(tailIn / (tailOut + 1)); red < 15 {
		t.Fatalf("noise-only part reduced by %.1f dB, want at least 15", red)
	}

	// Clean speech passes nearly unchanged.
	yc := run(t, s)
	d, g, sig, res = align(s, yc)
	t.Logf("clean: SNR of the output against the input %.1f dB, delay %d, gain %.2f", db(sig/res), d, g)
	if db(sig/res) < 10 || g < 0.7 || g > 1.2 {
		t.Fatalf("clean speech changed: %.1f dB distortion ratio, gain %.2f", db(sig/res), g)
	}
}

func TestSuppressorsShareInstances(t *testing.T) {
	e := testEngine(t)
	var ss []denoise.Suppressor
	for range 5 {
		s, err := e.NewSuppressor()
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	e.mu.Lock()
	n := len(e.insts)
	e.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d instances for 5 legs, want 2", n)
	}
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, out := make([]float32, denoise.FrameSize), make([]float32, denoise.FrameSize)
			for j := range in {
				in[j] = float32(1000 * math.Sin(float64(i+j)))
			}
			for range 50 {
				if err := s.Process(out, in); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	in, out := make([]float32, denoise.FrameSize), make([]float32, denoise.FrameSize)
	for _, s := range ss {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss[0].Process(out, in); err == nil {
		t.Fatal("closed suppressor processed a frame")
	}
}

// In-band DTMF goes through VoiceFocus: the digit detector runs on the
// suppressed audio, so the suppressor must keep the tones.
func TestVoiceFocusKeepsDTMF(t *testing.T) {
	s, err := testEngine(t).NewSuppressor()
	if err != nil {
		t.Fatal(err)
	}
	st := denoise.New(s)
	defer st.Close()
	var got []byte
	det := dtmf.NewDetector(func(r dtmf.Received) { got = append(got, byte(r.Digit)) })
	sig := make(codec.PCM16, 3*codec.SampleRate)
	for i, d := range "42#" {
		at := codec.SampleRate/2 + i*codec.SampleRate*3/4
		dtmf.Generate(sig[at:at+codec.SampleRate/5], byte(d), 0, dtmf.DefaultToneAmplitude)
	}
	r := rand.New(rand.NewSource(2))
	for i := range sig {
		sig[i] = int16(max(-32767, min(32767, float64(sig[i])+r.NormFloat64()*300)))
	}
	for i := 0; i+codec.FrameSamples <= len(sig); i += codec.FrameSamples {
		f := sig[i : i+codec.FrameSamples]
		st.FilterFrame(f)
		det.Process(f)
	}
	if string(got) != "42#" {
		t.Fatalf("digits through VoiceFocus: %q, want 42#", got)
	}
}

type passThrough struct{}

func (passThrough) Process(out, in []float32) error { copy(out, in); return nil }
func (passThrough) Close() error                    { return nil }

// BenchmarkStage is the cost of VoiceFocus per 20 ms frame of one leg:
// RNNoise in Wasm with the 8↔48 kHz resampling, and the resampling alone
// (a pass-through suppressor) as its baseline:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench Stage ./host/voicefocus/
func BenchmarkStage(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("set MEDIASERVER_BENCH=1 (make bench)")
	}
	frame := make(codec.PCM16, codec.FrameSamples)
	r := rand.New(rand.NewSource(3))
	for _, v := range []struct {
		name string
		sup  func() denoise.Suppressor
	}{
		{"rnnoise", func() denoise.Suppressor {
			s, err := testEngine(b).NewSuppressor()
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"resampling only", func() denoise.Suppressor { return passThrough{} }},
	} {
		b.Run(v.name, func(b *testing.B) {
			st := denoise.New(v.sup())
			defer st.Close()
			for b.Loop() {
				for i := range frame {
					frame[i] = int16(r.NormFloat64() * 2000)
				}
				st.FilterFrame(frame)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)*50/1000, "ms_cpu/call-s")
		})
	}
}
