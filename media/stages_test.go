package media

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/wav"
)

func ramp(n int) codec.PCM16 {
	p := make(codec.PCM16, n)
	for i := range p {
		p[i] = int16(i + 1)
	}
	return p
}

func TestPromptFrames(t *testing.T) {
	tests := []struct {
		name    string
		samples int
		frames  int
	}{
		{name: "empty", samples: 0, frames: 0},
		{name: "one sample", samples: 1, frames: 1},
		{name: "exact", samples: 320, frames: 2},
		{name: "padded", samples: 321, frames: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPrompt(ramp(tt.samples))
			if p.Frames() != tt.frames || p.Duration() != time.Duration(tt.frames)*20*time.Millisecond {
				t.Fatalf("frames %d duration %v", p.Frames(), p.Duration())
			}
			if tt.samples == 321 {
				last := p.frames[2]
				if last[0] != 321 || last[1] != 0 || len(last) != 160 || cap(last) != 160 {
					t.Fatalf("last frame %v (cap %d)", last[:2], cap(last))
				}
			}
		})
	}
}

func TestPlayer(t *testing.T) {
	tests := []struct {
		name       string
		frames     int
		repeat     int
		stopAfter  int // frames read before Stop; -1 = never
		wantFrames int
		wantReason Reason
	}{
		{name: "once", frames: 3, repeat: 1, stopAfter: -1, wantFrames: 3, wantReason: ReasonFinished},
		{name: "repeat 0 means once", frames: 2, repeat: 0, stopAfter: -1, wantFrames: 2, wantReason: ReasonFinished},
		{name: "repeat 3", frames: 2, repeat: 3, stopAfter: -1, wantFrames: 6, wantReason: ReasonFinished},
		{name: "stopped", frames: 10, repeat: 1, stopAfter: 4, wantFrames: 4, wantReason: ReasonStopped},
		{name: "empty prompt", frames: 0, repeat: 2, stopAfter: -1, wantFrames: 0, wantReason: ReasonFinished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var results []PlayResult
			p := NewPlayer(NewPrompt(ramp(tt.frames*160)), tt.repeat, func(r PlayResult) { results = append(results, r) })
			dst := make(codec.PCM16, 160)
			n := 0
			for i := 0; i < 100; i++ {
				if n == tt.stopAfter {
					p.Stop()
				}
				if !p.ReadFrame(dst) {
					break
				}
				if want := int16((n%max(1, tt.frames))*160 + 1); dst[0] != want {
					t.Fatalf("frame %d starts with %d, want %d", n, dst[0], want)
				}
				n++
			}
			p.Stop() // after the end: no second callback
			if n != tt.wantFrames {
				t.Fatalf("played %d frames, want %d", n, tt.wantFrames)
			}
			if len(results) != 1 || results[0].Reason != tt.wantReason || results[0].Played != time.Duration(n)*codec.FrameDuration {
				t.Fatalf("results %+v", results)
			}
		})
	}
}

func TestThresholdDBFS(t *testing.T) {
	tests := []struct {
		name      string
		threshold int
		want      float64
	}{
		{name: "quiet room", threshold: 1, want: -50},
		{name: "loud", threshold: 1000, want: -5},
		{name: "clamped low", threshold: -3, want: -50},
		{name: "clamped high", threshold: 5000, want: -5},
		{name: "default 200", threshold: 200, want: 30 + 45*199.0/999 - 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ThresholdDBFS(tt.threshold); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func constFrame(v int16) codec.PCM16 {
	f := make(codec.PCM16, 160)
	for i := range f {
		if i%2 == 0 {
			f[i] = v
		} else {
			f[i] = -v
		}
	}
	return f
}

func TestFrameDBFS(t *testing.T) {
	if got := FrameDBFS(constFrame(0)); got != -120 {
		t.Fatalf("silence %v", got)
	}
	if got := FrameDBFS(constFrame(32767)); got != 0 {
		t.Fatalf("full scale %v", got)
	}
	// 328 ≈ 1% of full scale = -40 dBFS.
	if got := FrameDBFS(constFrame(328)); got < -40.01 || got > -39.9 {
		t.Fatalf("1%% %v", got)
	}
}

func TestSilenceDetector(t *testing.T) {
	// threshold 200 ≈ -41 dBFS: 100 (≈ -50 dBFS) is silence, 1000 (≈ -30) is not.
	quiet, loud := constFrame(100), constFrame(1000)
	for _, tt := range []struct {
		name string
		seq  []codec.PCM16
		want []bool
	}{
		{name: "silent from the start", seq: []codec.PCM16{quiet, quiet, loud, loud, quiet}, want: []bool{true, false, true}},
		{name: "audible from the start", seq: []codec.PCM16{loud, loud, quiet, quiet, loud}, want: []bool{true, false}},
		{name: "no change", seq: []codec.PCM16{loud, loud, loud}, want: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			s := NewSilenceDetector(200, func(silent bool) { got = append(got, silent) })
			for _, f := range tt.seq {
				s.WriteFrame(f, nil)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("edges %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecorderTracks(t *testing.T) {
	tests := []struct {
		name     string
		track    Track
		channels int
		first    []int16 // first samples as stored
	}{
		{name: "incoming", track: TrackIncoming, channels: 1, first: []int16{11, 11}},
		{name: "outgoing", track: TrackOutgoing, channels: 1, first: []int16{22, 22}},
		{name: "both", track: TrackBoth, channels: 2, first: []int16{11, 22, 11, 22}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.wav")
			r, err := NewRecorder(RecorderConfig{Path: path, Track: tt.track})
			if err != nil {
				t.Fatal(err)
			}
			in, out := make(codec.PCM16, 160), make(codec.PCM16, 160)
			for i := range in {
				in[i], out[i] = 11, 22
			}
			for i := 0; i < 10; i++ {
				r.WriteFrame(in, out)
			}
			r.Stop()
			r.Stop()
			r.WriteFrame(in, out) // ignored after Stop
			res := r.Wait()
			if res.Err != nil || res.Reason != ReasonStopped || res.Duration != 200*time.Millisecond || res.Path != path {
				t.Fatalf("result %+v", res)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != 44+10*160*2*tt.channels {
				t.Fatalf("file size %d", len(raw))
			}
			for i, want := range tt.first {
				got := int16(uint16(raw[44+2*i]) | uint16(raw[45+2*i])<<8)
				if got != want {
					t.Fatalf("sample %d = %d, want %d", i, got, want)
				}
			}
		})
	}
}

func TestRecorderMaxDurationAndPause(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	done := make(chan RecordResult, 1)
	r, err := NewRecorder(RecorderConfig{Path: path, MaxDuration: 100 * time.Millisecond, OnDone: func(res RecordResult) { done <- res }})
	if err != nil {
		t.Fatal(err)
	}
	loud := constFrame(5000)
	r.WriteFrame(loud, nil)
	r.Pause()
	r.WriteFrame(loud, nil)
	r.Resume()
	for i := 0; i < 10; i++ {
		r.WriteFrame(loud, nil)
	}
	res := <-done
	if res.Reason != ReasonDuration || res.Duration != 100*time.Millisecond {
		t.Fatalf("result %+v", res)
	}
	pcm, _, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rms(pcm[:160]) < 4000 || rms(pcm[160:320]) != 0 || rms(pcm[320:480]) < 4000 {
		t.Fatalf("pause not silent: %v %v %v", rms(pcm[:160]), rms(pcm[160:320]), rms(pcm[320:480]))
	}
}

func TestRecorderCreateError(t *testing.T) {
	_, err := NewRecorder(RecorderConfig{Path: filepath.Join(t.TempDir(), "missing", "r.wav")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func writePrompt(t *testing.T, path string, samples int) {
	t.Helper()
	w, err := wav.Create(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ramp(samples)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPromptCache(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav"), filepath.Join(dir, "c.wav")
	writePrompt(t, a, 1600) // 10 frames, 3200 bytes
	writePrompt(t, b, 1600)
	writePrompt(t, c, 1600)
	cache := NewPromptCache(7000) // room for two

	pa, err := cache.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	pa2, _ := cache.Load(a)
	if pa != pa2 {
		t.Fatal("second load decoded again")
	}
	if _, err := cache.Load(b); err != nil {
		t.Fatal(err)
	}
	cache.Load(a) // a is now the most recent
	if _, err := cache.Load(c); err != nil {
		t.Fatal(err)
	}
	if n, bytes := cache.Stats(); n != 2 || bytes != 6400 {
		t.Fatalf("entries %d bytes %d", n, bytes)
	}
	if pa3, _ := cache.Load(a); pa3 != pa {
		t.Fatal("a was evicted instead of b")
	}
	// A rewritten file (new size) is a new entry.
	writePrompt(t, a, 800)
	pa4, err := cache.Load(a)
	if err != nil || pa4 == pa || pa4.Frames() != 5 {
		t.Fatalf("reloaded %v frames, err %v", pa4.Frames(), err)
	}
	if _, err := cache.Load(filepath.Join(dir, "none.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing err %v", err)
	}
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("garbage"), 0o644)
	if _, err := cache.Load(bad); !errors.Is(err, wav.ErrNotWAV) {
		t.Fatalf("bad err %v", err)
	}
}

func TestPromptCacheConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.wav")
	writePrompt(t, path, 8000)
	cache := NewPromptCache(1 << 20)
	var wg sync.WaitGroup
	got := make([]*Prompt, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := cache.Load(path)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	for _, p := range got {
		if p != got[0] {
			t.Fatal("concurrent loads returned different prompts")
		}
	}
}
