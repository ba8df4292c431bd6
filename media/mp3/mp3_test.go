package mp3

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// toneShare is the share of x's power at freq (Goertzel).
func toneShare(x codec.PCM16, freq float64) float64 {
	w := 2 * math.Pi * freq / codec.SampleRate
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + 2*math.Cos(w)*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	p := s1*s1 + s2*s2 - 2*math.Cos(w)*s1*s2
	return p / (total * float64(len(x)) / 2)
}

// The fixtures were made with sox (a sine) and the lame encoder:
//
//	sox -n -r 22050 -c 1 -b 16 t.wav synth 1.0 sine 440 vol 0.5; lame -b 48 t.wav tone440-22k-mono.mp3
//	sox -n -r 44100 -c 2 -b 16 t.wav synth 1.5 sine 1000 vol 0.5; lame -b 64 t.wav tone1k-44k-stereo.mp3
func TestDecode(t *testing.T) {
	tests := []struct {
		file string
		freq float64
		secs float64
	}{
		{"testdata/tone440-22k-mono.mp3", 440, 1.0},
		{"testdata/tone1k-44k-stereo.mp3", 1000, 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !Sniff(data) {
				t.Fatal("not sniffed as mp3")
			}
			pcm, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			secs := float64(len(pcm)) / codec.SampleRate
			// lame adds encoder delay and padding: up to about 0.1 s.
			if secs < tt.secs || secs > tt.secs+0.15 {
				t.Fatalf("%.3f s of audio, want about %.1f", secs, tt.secs)
			}
			mid := pcm[len(pcm)/4 : 3*len(pcm)/4]
			if s := toneShare(mid, tt.freq); s < 0.9 {
				t.Fatalf("%.0f Hz share %.2f", tt.freq, s)
			}
			var peak int16
			for _, v := range mid {
				peak = max(peak, v)
			}
			if peak < 12000 || peak > 20000 { // vol 0.5 ≈ 16384
				t.Fatalf("peak %d, want about 16384", peak)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	data, err := os.ReadFile("testdata/tone440-22k-mono.mp3")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not an mp3 at all"),
		"id3 only":  []byte("ID3\x04\x00\x00\x00\x00\x00\x00"),
		"truncated": data[:20],
	} {
		if _, err := Decode(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	data, err := os.ReadFile("testdata/tone440-22k-mono.mp3")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data[:1200])
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x10"))
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, err := Decode(b)
		if err == nil && len(pcm) == 0 {
			t.Fatal("no error and no audio")
		}
	})
}
