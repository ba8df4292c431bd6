package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/host/audio"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/speech"
	"github.com/wasmvoice/mediaserver/internal/assets"
	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

func requireFlite(t *testing.T) {
	t.Helper()
	if _, err := assets.Path("flite.wasm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// mediactl speak writes what a call hears: the server's speech service's
// prompt, sample for sample, as 8 kHz mono.
func TestSpeak(t *testing.T) {
	requireFlite(t)
	out := filepath.Join(t.TempDir(), "prompt.wav")
	r := runCLI(t, "", "speak", "-voice", "Matthew", "Press one for sales.", "-o", out)
	if r.code != 0 || !strings.Contains(r.stderr, "s of speech, 8000 Hz mono") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got, info, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 {
		t.Fatalf("format %+v", info)
	}
	var sum float64
	for _, v := range got {
		sum += float64(v) * float64(v)
	}
	if lvl := 10 * math.Log10(sum/float64(len(got))/(32768*32768)); lvl < -35 || len(got) < codec.SampleRate/2 {
		t.Fatalf("%d samples at %.1f dBFS: not speech", len(got), lvl)
	}
	svc := audio.New(audio.Config{Speech: config.Default().Speech})
	defer svc.Close(context.Background())
	p, err := svc.Speak(context.Background(), speech.Request{Text: "Press one for sales.", VoiceID: "Matthew"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, p.PCM()) {
		t.Fatal("the file differs from what the server plays")
	}
}

func TestSpeakUsage(t *testing.T) {
	for _, args := range [][]string{{"speak"}, {"speak", "hi"}, {"speak", "a", "b", "-o", "x.wav"}} {
		if r := runCLI(t, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
	requireFlite(t)
	if r := runCLI(t, "", "speak", "-ssml", "<speak> </speak>", "-o", filepath.Join(t.TempDir(), "x.wav")); r.code != exitFailure ||
		!strings.Contains(r.stderr, "nothing to say") {
		t.Errorf("empty SSML: exit %d\n%s", r.code, r.stderr)
	}
}
