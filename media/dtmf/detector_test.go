package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// signal is a float sample buffer at 8 kHz.
type signal []float64

func (s signal) addTone(start int, dur time.Duration, freq, amp float64) {
	n := int(dur.Seconds() * codec.SampleRate)
	for i := 0; i < n && start+i < len(s); i++ {
		s[start+i] += amp * math.Sin(2*math.Pi*freq*float64(i)/codec.SampleRate)
	}
}

// addNoise adds white Gaussian noise of the given RMS.
func (s signal) addNoise(rng *rand.Rand, rms float64) {
	for i := range s {
		s[i] += rng.NormFloat64() * rms
	}
}

func (s signal) pcm() codec.PCM16 {
	out := make(codec.PCM16, len(s))
	for i, v := range s {
		out[i] = int16(max(-32767, min(32767, math.Round(v))))
	}
	return out
}

func detect(pcm codec.PCM16) []Received {
	var got []Received
	d := NewDetector(func(r Received) { got = append(got, r) })
	for i := 0; i+codec.FrameSamples <= len(pcm); i += codec.FrameSamples {
		d.Process(pcm[i : i+codec.FrameSamples])
	}
	return got
}

func TestDetectorAllDigits(t *testing.T) {
	tests := []struct {
		name    string
		twistDB float64 // high tone relative to low tone
		snrDB   float64 // tone power to noise power; 0 = no noise
		offset  float64 // relative frequency deviation
		dur     time.Duration
	}{
		{name: "clean", dur: 100 * time.Millisecond},
		{name: "normal twist 6 dB, 20 dB snr", twistDB: 6, snrDB: 20, dur: 100 * time.Millisecond},
		{name: "reverse twist 3 dB, 20 dB snr", twistDB: -3, snrDB: 20, dur: 100 * time.Millisecond},
		{name: "15 dB snr", snrDB: 15, dur: 100 * time.Millisecond},
		{name: "frequency +1.5%", offset: 0.015, snrDB: 25, dur: 100 * time.Millisecond},
		{name: "frequency -1.5%", offset: -0.015, snrDB: 25, dur: 100 * time.Millisecond},
		{name: "minimum 50 ms", snrDB: 20, dur: 50 * time.Millisecond},
		{name: "long 1 s", snrDB: 20, dur: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < len(Digits); i++ {
				digit := Digits[i]
				low, high, _ := Frequencies(digit)
				sig := make(signal, 8000+int(tt.dur.Seconds()*8000))
				start := 1000 + rng.IntN(160) // not frame aligned
				lowAmp := 5000.0
				highAmp := lowAmp * math.Pow(10, tt.twistDB/20)
				sig.addTone(start, tt.dur, low*(1+tt.offset), lowAmp)
				sig.addTone(start, tt.dur, high*(1+tt.offset), highAmp)
				if tt.snrDB > 0 {
					power := (lowAmp*lowAmp + highAmp*highAmp) / 2
					sig.addNoise(rng, math.Sqrt(power/math.Pow(10, tt.snrDB/10)))
				}
				got := detect(sig.pcm())
				if len(got) != 1 || got[0].Digit != digit || got[0].Source != SourceInband {
					t.Fatalf("digit %q: got %+v", digit, got)
				}
				// The reported duration is whole blocks: within one block
				// or two of the real one.
				if d := got[0].Duration; d < tt.dur-40*time.Millisecond || d > tt.dur+20*time.Millisecond {
					t.Fatalf("digit %q: duration %v, tone %v", digit, d, tt.dur)
				}
			}
		})
	}
}

func TestDetectorRejects(t *testing.T) {
	tests := []struct {
		name string
		make func(rng *rand.Rand) signal
	}{
		{name: "silence", make: func(*rand.Rand) signal { return make(signal, 16000) }},
		{name: "line noise", make: func(rng *rand.Rand) signal {
			s := make(signal, 16000)
			s.addNoise(rng, 3000)
			return s
		}},
		{name: "normal twist 10 dB", make: func(*rand.Rand) signal {
			s := make(signal, 8000)
			s.addTone(0, 200*time.Millisecond, 770, 2000)
			s.addTone(0, 200*time.Millisecond, 1336, 2000*math.Pow(10, 0.5))
			return s
		}},
		{name: "reverse twist 6 dB", make: func(*rand.Rand) signal {
			s := make(signal, 8000)
			s.addTone(0, 200*time.Millisecond, 770, 8000)
			s.addTone(0, 200*time.Millisecond, 1336, 4000)
			return s
		}},
		{name: "too quiet", make: func(*rand.Rand) signal {
			s := make(signal, 8000)
			s.addTone(0, 200*time.Millisecond, 770, 150)
			s.addTone(0, 200*time.Millisecond, 1336, 150)
			return s
		}},
		{name: "single tone", make: func(*rand.Rand) signal {
			s := make(signal, 8000)
			s.addTone(0, 500*time.Millisecond, 941, 8000)
			return s
		}},
		{name: "speech-like vowels", make: speechLike},
		{name: "music chord", make: chord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detect(tt.make(rand.New(rand.NewPCG(3, 4))).pcm())
			if len(got) != 0 {
				t.Fatalf("false digits %+v", got)
			}
		})
	}
}

// speechLike synthesises voiced sounds: a glottal pulse train (harmonics
// of a pitch gliding 90-300 Hz) shaped by formant resonances of several
// vowels, separated by noise bursts (fricatives).
func speechLike(rng *rand.Rand) signal {
	vowels := [][3]float64{{730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}, {530, 1840, 2480}, {640, 1190, 2390}, {660, 1720, 2410}}
	var s signal
	phase := make([]float64, 40)
	for round := 0; round < 3; round++ {
		for vi, f := range vowels {
			n := 2400 // 300 ms
			seg := make(signal, n)
			f0start := 90 + float64((vi*37+round*53)%210)
			for i := 0; i < n; i++ {
				f0 := f0start * (1 + 0.3*float64(i)/float64(n))
				var v float64
				for k := 1; k < len(phase); k++ {
					fk := f0 * float64(k)
					if fk > 3600 {
						break
					}
					phase[k] += 2 * math.Pi * fk / codec.SampleRate
					var gain float64
					for j, fm := range f {
						bw := 80.0 + 40*float64(j)
						gain += 1 / (1 + math.Pow((fk-fm)/bw, 2))
					}
					v += gain / float64(k) * math.Sin(phase[k])
				}
				seg[i] = v * 6000
			}
			s = append(s, seg...)
			burst := make(signal, 800)
			burst.addNoise(rng, 2500)
			s = append(s, burst...)
		}
	}
	return s
}

// chord is a piano-like C major chord and a two-note interval, with
// decaying harmonics, as hold music would have.
func chord(*rand.Rand) signal {
	s := make(signal, 16000)
	notes := [][]float64{{261.63, 329.63, 392.0}, {698.46, 1318.51}, {783.99, 1244.51}}
	for ci, chord := range notes {
		start := ci * 5000
		for _, f := range chord {
			for k := 1; k <= 6; k++ {
				if f*float64(k) < 3900 {
					s.addTone(start, 600*time.Millisecond, f*float64(k), 4000/float64(k))
				}
			}
		}
	}
	return s
}

func TestGenerateThenDetect(t *testing.T) {
	frame := make(codec.PCM16, codec.FrameSamples)
	var got []Received
	d := NewDetector(func(r Received) { got = append(got, r) })
	for _, digit := range []byte("159#*0D") {
		for off := 0; off < 5*160; off += 160 {
			Generate(frame, digit, off, DefaultToneAmplitude)
			d.Process(frame)
		}
		clear(frame)
		for i := 0; i < 4; i++ {
			d.Process(frame)
		}
	}
	var s []byte
	for _, r := range got {
		s = append(s, r.Digit)
	}
	if string(s) != "159#*0D" {
		t.Fatalf("got %q", s)
	}
	Generate(frame, 'x', 0, DefaultToneAmplitude)
	for _, v := range frame {
		if v != 0 {
			t.Fatal("unknown digit not silent")
		}
	}
}

func TestFrequencies(t *testing.T) {
	tests := []struct {
		name      string
		digit     byte
		low, high float64
		ok        bool
	}{
		{name: "1", digit: '1', low: 697, high: 1209, ok: true},
		{name: "0", digit: '0', low: 941, high: 1336, ok: true},
		{name: "#", digit: '#', low: 941, high: 1477, ok: true},
		{name: "d lower", digit: 'd', low: 941, high: 1633, ok: true},
		{name: "bad", digit: 'z'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, h, ok := Frequencies(tt.digit)
			if l != tt.low || h != tt.high || ok != tt.ok {
				t.Fatalf("got %v %v %v", l, h, ok)
			}
		})
	}
}

func BenchmarkDetectorFrame(b *testing.B) {
	frame := make(codec.PCM16, codec.FrameSamples)
	Generate(frame, '5', 0, DefaultToneAmplitude)
	d := NewDetector(func(Received) {})
	b.ReportAllocs()
	for b.Loop() {
		d.Process(frame)
	}
}
