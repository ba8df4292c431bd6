package speech

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// counting wraps a provider and counts its syntheses.
type counting struct {
	Provider
	n atomic.Int32
}

func (c *counting) Synthesize(ctx context.Context, text string, v Voice, rate float64) (codec.PCM16, error) {
	c.n.Add(1)
	return c.Provider.Synthesize(ctx, text, v, rate)
}

func TestFliteSpeaksText(t *testing.T) {
	f := testFlite(t)
	pcm, err := f.Synthesize(context.Background(), "Hello, and welcome.", Voice{Flite: "slt"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Duration(len(pcm)) * time.Second / codec.SampleRate
	lv := frameLevels(pcm)
	if d < 500*time.Millisecond || d > 4*time.Second || loudFrames(lv) < 20 {
		t.Fatalf("%v of audio, %d loud frames: not speech", d, loudFrames(lv))
	}
	// A slower rate gives longer audio.
	slow, err := f.Synthesize(context.Background(), "Hello, and welcome.", Voice{Flite: "slt"}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(len(slow)) / float64(len(pcm)); r < 1.5 {
		t.Fatalf("rate 0.5: %d samples vs %d at rate 1", len(slow), len(pcm))
	}
}

func TestFliteDeadline(t *testing.T) {
	f := testFlite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond)
	if _, err := f.Synthesize(ctx, "This will not be said.", Voice{Flite: "slt"}, 1); err == nil {
		t.Fatal("synthesis after the deadline succeeded")
	}
}

func TestServiceBreakAndCache(t *testing.T) {
	c := &counting{Provider: testFlite(t)}
	s := New(Config{Embedded: c})
	req := Request{Text: `<speak>Press one for sales.<break time="1s"/>Press two for support.</speak>`, TextType: "ssml"}
	var wg sync.WaitGroup
	prompts := make([]any, 3)
	for i := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.Prompt(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			prompts[i] = p
		}()
	}
	wg.Wait()
	if prompts[0] != prompts[1] || prompts[1] != prompts[2] {
		t.Fatal("concurrent requests got different prompts")
	}
	if n := c.n.Load(); n != 2 { // two sentences, synthesised once
		t.Fatalf("%d syntheses, want 2", n)
	}
	pcm, err := s.Audio(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Hits != 3 || st.Misses != 1 || st.Entries != 1 || c.n.Load() != 2 {
		t.Fatalf("stats %+v, %d syntheses", st, c.n.Load())
	}
	lv := frameLevels(pcm)
	n, at := longestQuiet(lv)
	// The break is 1 s of digital silence between speech on both sides
	// (flite adds a little silence of its own at the edges).
	if n < 50 || n > 70 || loudFrames(lv[:at]) < 20 || loudFrames(lv[at+n:]) < 20 {
		t.Fatalf("longest quiet %d frames at %d; loud before %d, after %d", n, at, loudFrames(lv[:at]), loudFrames(lv[at+n:]))
	}
}

func TestServiceCacheCap(t *testing.T) {
	c := &counting{Provider: testFlite(t)}
	s := New(Config{Embedded: c, CacheBytes: 60 << 10}) // about 3.8 s of audio
	for _, text := range []string{"One.", "Two.", "One."} {
		if _, err := s.Prompt(context.Background(), Request{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Bytes > 60<<10 || st.Entries == 0 {
		t.Fatalf("stats %+v over the cap", st)
	}
	if _, err := s.Prompt(context.Background(), Request{Text: "  "}); !errors.Is(err, ErrText) {
		t.Fatalf("empty text: %v", err)
	}
}

// wavSine is a 16 kHz mono WAV of a tone.
func wavSine(freq float64, d time.Duration) []byte {
	const rate = 16000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	for i := range n {
		binary.Write(&b, le, int16(10000*math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	return b.Bytes()
}

// goertzel is the power of freq in x relative to x's total power.
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

func TestHTTPProviderAndFallback(t *testing.T) {
	var fail atomic.Int32 // 0 ok, 1 status 500, 2 too slow
	var got map[string]any
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = nil
		json.NewDecoder(r.Body).Decode(&got)
		mu.Unlock()
		switch fail.Load() {
		case 1:
			http.Error(w, "down", 500)
			return
		case 2:
			time.Sleep(300 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wavSine(1000, time.Second))
	}))
	defer srv.Close()
	guard, err := netguard.New([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	emb := &counting{Provider: testFlite(t)}
	h := NewHTTP(HTTPConfig{URL: srv.URL + "/v1/audio/speech", Model: "m1", Voices: map[string]string{"Joanna": "alloy"}, Timeout: 100 * time.Millisecond}, guard.Client())
	s := New(Config{Embedded: emb, Remote: h, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})

	pcm, err := s.Audio(context.Background(), Request{Text: "Hello", VoiceID: "Joanna"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if got["model"] != "m1" || got["input"] != "Hello" || got["voice"] != "alloy" || got["response_format"] != "wav" {
		t.Errorf("request body %v", got)
	}
	mu.Unlock()
	if share := toneShare(pcm[:8000], 1000); share < 0.9 || emb.n.Load() != 0 {
		t.Fatalf("http audio: 1 kHz share %.2f, embedded used %d times", share, emb.n.Load())
	}

	for _, mode := range []int32{1, 2} {
		fail.Store(mode)
		pcm, err := s.Audio(context.Background(), Request{Text: "Hello again", VoiceID: "Matthew"})
		if err != nil {
			t.Fatal(err)
		}
		if share := toneShare(pcm, 1000); share > 0.2 || loudFrames(frameLevels(pcm)) < 10 {
			t.Fatalf("mode %d: fallback audio has 1 kHz share %.2f", mode, share)
		}
	}
	if st := s.Stats(); st.Fallbacks != 2 || emb.n.Load() != 1 {
		t.Fatalf("stats %+v, embedded %d (the fallback is cached once)", st, emb.n.Load())
	}

	// The egress policy applies: without loopback allowed, the endpoint is
	// refused and the embedded voice speaks.
	strict := NewHTTP(HTTPConfig{URL: srv.URL}, (&netguard.Policy{}).Client())
	if _, err := strict.Synthesize(context.Background(), "x", Voice{PollyID: "Joanna"}, 1); !errors.Is(err, netguard.ErrForbidden) {
		t.Fatalf("loopback endpoint with a strict policy: %v", err)
	}
}

// BenchmarkSynthesis measures the embedded engine's speed as a multiple of
// real time (seconds of 8 kHz speech per second of wall time), per voice,
// for a 2-sentence menu, each synthesis a fresh instance of the module:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench Synthesis ./host/speech/
func BenchmarkSynthesis(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("set MEDIASERVER_BENCH=1 (make bench)")
	}
	f := testFlite(b)
	const text = "Thank you for calling. For sales, press one; for support, press two; to hear these options again, press nine."
	for _, voice := range []string{"slt", "rms", "awb", "kal"} {
		b.Run(voice, func(b *testing.B) {
			var audio time.Duration
			for b.Loop() {
				pcm, err := f.Synthesize(context.Background(), text, Voice{Flite: voice}, 1)
				if err != nil {
					b.Fatal(err)
				}
				audio += time.Duration(len(pcm)) * time.Second / codec.SampleRate
			}
			b.ReportMetric(audio.Seconds()/b.Elapsed().Seconds(), "x_realtime")
			b.ReportMetric(audio.Seconds()/float64(b.N), "audio_s/op")
		})
	}
}
