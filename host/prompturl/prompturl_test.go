package prompturl

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/netguard"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// wavTone is a 16-bit mono WAV of a tone at rate.
func wavTone(rate int, freq float64, d time.Duration) []byte {
	n := int(d.Seconds() * float64(rate))
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
		binary.Write(&b, le, int16(12000*math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return b.Bytes()
}

func toneShare(x codec.PCM16, freq float64) float64 {
	w := 2 * math.Pi * freq / codec.SampleRate
	var s1, s2, total float64
	for _, v := range x {
		s := float64(v) + 2*math.Cos(w)*s1 - s2
		s2, s1 = s1, s
		total += float64(v) * float64(v)
	}
	return (s1*s1 + s2*s2 - 2*math.Cos(w)*s1*s2) / (total * float64(len(x)) / 2)
}

type testServer struct {
	*httptest.Server
	hits, notModified atomic.Int32
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{}
	tone := wavTone(16000, 600, time.Second)
	mp3, err := os.ReadFile("../../media/mp3/testdata/tone1k-44k-stereo.mp3")
	if err != nil {
		t.Fatal(err)
	}
	lastMod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)
	mux := http.NewServeMux()
	mux.HandleFunc("/etag.wav", func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			ts.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(tone)
	})
	mux.HandleFunc("/lm.mp3", func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		if r.Header.Get("If-Modified-Since") == lastMod {
			ts.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lastMod)
		w.Write(mp3)
	})
	mux.HandleFunc("/maxage.wav", func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Write(tone)
	})
	mux.HandleFunc("/plain.wav", func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		w.Write(tone)
	})
	mux.HandleFunc("/big.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2000000")
		w.Write(make([]byte, 2000000))
	})
	mux.HandleFunc("/big-chunked.wav", func(w http.ResponseWriter, r *http.Request) {
		for range 100 {
			w.Write(make([]byte, 20000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/garbage.wav", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>not audio</html>")) })
	mux.HandleFunc("/slow.wav", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	ts.Server = httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func loopbackPolicy(t *testing.T) *netguard.Policy {
	p, err := netguard.New([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFetchAndRevalidate(t *testing.T) {
	ts := newTestServer(t)
	f := New(Config{Policy: loopbackPolicy(t)})
	ctx := context.Background()

	p1, err := f.Prompt(ctx, ts.URL+"/etag.wav")
	if err != nil {
		t.Fatal(err)
	}
	pcm := p1.PCM()
	if d := p1.Duration(); d < time.Second || d > 1020*time.Millisecond || toneShare(pcm[:8000], 600) < 0.95 {
		t.Fatalf("etag.wav: %v, 600 Hz share %.2f", d, toneShare(pcm[:8000], 600))
	}
	p2, err := f.Prompt(ctx, ts.URL+"/etag.wav")
	if err != nil || p2 != p1 {
		t.Fatalf("second fetch: %v, same prompt %v", err, p2 == p1)
	}
	if ts.hits.Load() != 2 || ts.notModified.Load() != 1 {
		t.Fatalf("hits %d, 304s %d", ts.hits.Load(), ts.notModified.Load())
	}

	m1, err := f.Prompt(ctx, ts.URL+"/lm.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if s := toneShare(m1.PCM()[2000:10000], 1000); s < 0.9 {
		t.Fatalf("lm.mp3: 1 kHz share %.2f", s)
	}
	if m2, err := f.Prompt(ctx, ts.URL+"/lm.mp3"); err != nil || m2 != m1 || ts.notModified.Load() != 2 {
		t.Fatalf("If-Modified-Since: %v, same %v, 304s %d", err, m2 == m1, ts.notModified.Load())
	}

	ts.hits.Store(0)
	a1, _ := f.Prompt(ctx, ts.URL+"/maxage.wav")
	a2, err := f.Prompt(ctx, ts.URL+"/maxage.wav")
	if err != nil || a1 != a2 || ts.hits.Load() != 1 {
		t.Fatalf("max-age: %v, same %v, hits %d", err, a1 == a2, ts.hits.Load())
	}
	// Without validators nothing is kept: each play fetches again.
	f.Prompt(ctx, ts.URL+"/plain.wav")
	f.Prompt(ctx, ts.URL+"/plain.wav")
	if ts.hits.Load() != 3 {
		t.Fatalf("plain.wav: %d hits, want 2 more", ts.hits.Load()-1)
	}
	if st := f.Stats(); st.Fetches != 5 || st.NotModified != 2 || st.Fresh != 1 || st.Entries != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFetchErrors(t *testing.T) {
	ts := newTestServer(t)
	f := New(Config{Policy: loopbackPolicy(t), MaxBytes: 1 << 20, Timeout: 200 * time.Millisecond})
	strict := New(Config{}) // the default policy: no loopback, no private networks
	tests := []struct {
		name string
		f    *Fetcher
		url  string
		want error
	}{
		{"404", f, ts.URL + "/missing.wav", ErrStatus},
		{"oversized by Content-Length", f, ts.URL + "/big.wav", ErrTooLarge},
		{"oversized while reading", f, ts.URL + "/big-chunked.wav", ErrTooLarge},
		{"not audio", f, ts.URL + "/garbage.wav", ErrDecode},
		{"timeout", f, ts.URL + "/slow.wav", ErrFetch},
		{"loopback refused", strict, ts.URL + "/etag.wav", netguard.ErrForbidden},
		{"metadata address refused", strict, "http://169.254.169.254/latest/meta-data", netguard.ErrForbidden},
		{"private address refused", strict, "http://10.0.0.1/prompt.wav", netguard.ErrForbidden},
		{"not http", f, "file:///etc/passwd", netguard.ErrBadURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Prompt(context.Background(), tt.url)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}
