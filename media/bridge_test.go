package media

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
	"github.com/wasmvoice/mediaserver/media/dtmf"
)

// run ticks the streams n times, one after the other; after each stream's
// tick it waits until every packet sent by eps has been handled by one of
// them (all remotes are inside the set). So what a stream sends is always
// received before the next stream ticks: no race with the reader
// goroutines, no jitter-buffer underruns.
func (h *harness) run(streams []Stream, eps []*Endpoint, n int) {
	h.t.Helper()
	for i := 0; i < n; i++ {
		h.now = h.now.Add(codec.FrameDuration)
		h.nowNS.Store(h.now.UnixNano())
		for _, s := range streams {
			s.Tick(h.now)
			waitFor(h.t, "delivery", func() bool {
				var tx, rx uint64
				for _, e := range eps {
					tx += e.Stats().TxPackets
					rx += handled(e)
				}
				return rx >= tx
			})
		}
	}
}

// pair returns a phone endpoint and the server leg it talks to.
func (h *harness) pair(phone, leg EndpointConfig) (*Endpoint, *Endpoint) {
	h.t.Helper()
	p := h.endpoint(phone)
	leg.Remote = p.LocalAddr()
	l := h.endpoint(leg)
	p.SetRemote(l.LocalAddr())
	return p, l
}

// tone returns n samples of a sine of frequency f and peak amp.
func tone(n int, f, amp float64) codec.PCM16 {
	out := make(codec.PCM16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/codec.SampleRate))
	}
	return out
}

// toneLevel estimates the peak amplitude of the component of x at f Hz
// (one DFT bin; x should hold a whole number of periods or be long).
func toneLevel(x codec.PCM16, f float64) float64 {
	var re, im float64
	for i, v := range x {
		w := 2 * math.Pi * f * float64(i) / codec.SampleRate
		re += float64(v) * math.Cos(w)
		im += float64(v) * math.Sin(w)
	}
	return 2 * math.Hypot(re, im) / float64(max(1, len(x)))
}

func loop(ref codec.PCM16) *Player { return NewPlayer(NewPrompt(ref), 1000, nil) }

func TestBridgeAudio(t *testing.T) {
	tests := []struct {
		name      string
		a, b      codec.Codec
		transcode bool
	}{
		{name: "relay PCMU", a: codec.PCMU, b: codec.PCMU},
		{name: "relay PCMA", a: codec.PCMA, b: codec.PCMA},
		{name: "forced transcode", a: codec.PCMU, b: codec.PCMU, transcode: true},
		{name: "PCMU to PCMA", a: codec.PCMU, b: codec.PCMA},
		{name: "PCMA to PCMU", a: codec.PCMA, b: codec.PCMU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			phoneA, legA := h.pair(EndpointConfig{Codec: tt.a}, EndpointConfig{Codec: tt.a})
			phoneB, legB := h.pair(EndpointConfig{Codec: tt.b}, EndpointConfig{Codec: tt.b})
			refA := sweep(4000, 300, 1200, 9000)
			refB := sweep(4000, 1500, 3200, 9000)
			phoneA.SetSource(NewPlayer(NewPrompt(refA), 1, nil))
			phoneB.SetSource(NewPlayer(NewPrompt(refB), 1, nil))
			var heardA, heardB capture
			phoneA.AddSink(&heardA)
			phoneB.AddSink(&heardB)
			br, err := NewBridge(legA, legB, BridgeConfig{Transcode: tt.transcode})
			if err != nil {
				t.Fatal(err)
			}
			eps := []*Endpoint{phoneA, phoneB, legA, legB}
			h.run([]Stream{phoneA, phoneB, br}, eps, 40)

			for _, c := range []struct {
				who      string
				ref      codec.PCM16
				got      codec.PCM16
				notHeard codec.PCM16
			}{
				{"B hears A", refA, heardB.samples(), refB},
				{"A hears B", refB, heardA.samples(), refA},
			} {
				corr, lag := bestCorrelation(c.ref, c.got, 8*codec.FrameSamples)
				if corr < 0.97 {
					t.Fatalf("%s: correlation %.3f at lag %d", c.who, corr, lag)
				}
				if r := rms(c.got[lag:lag+len(c.ref)]) / rms(c.ref); r < 0.95 || r > 1.05 {
					t.Fatalf("%s: energy ratio %.3f", c.who, r)
				}
				if echo, _ := bestCorrelation(c.notHeard, c.got, 8*codec.FrameSamples); echo > 0.2 {
					t.Fatalf("%s: own audio comes back, correlation %.3f", c.who, echo)
				}
			}
			if s := legB.Stats(); s.TxPackets != 40 {
				t.Fatalf("leg B sent %d packets, want 40", s.TxPackets)
			}
			if err := br.Close(); err != nil {
				t.Fatal(err)
			}
			if err := br.Close(); !errors.Is(err, ErrClosed) {
				t.Fatalf("second close %v", err)
			}
		})
	}
}

func TestBridgeErrors(t *testing.T) {
	h := newHarness(t)
	a := h.endpoint(EndpointConfig{})
	b := h.endpoint(EndpointConfig{})
	c := h.endpoint(EndpointConfig{})
	if _, err := NewBridge(a, a, BridgeConfig{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("self bridge: %v", err)
	}
	br, err := NewBridge(a, b, BridgeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if h.clock.Len() != 2 { // the bridge and c
		t.Fatalf("clock has %d streams, want 2", h.clock.Len())
	}
	if _, err := NewBridge(c, b, BridgeConfig{}); !errors.Is(err, ErrAttached) {
		t.Fatalf("b bridged twice: %v", err)
	}
	m := NewMixer(h.clock)
	defer m.Close()
	if err := m.Add(a, Participant); !errors.Is(err, ErrAttached) {
		t.Fatalf("bridged leg joins a room: %v", err)
	}
	br.Close()
	if h.clock.Len() != 4 { // a, b, c, the mixer
		t.Fatalf("clock has %d streams after unbridge, want 4", h.clock.Len())
	}
	if _, err := NewBridge(c, b, BridgeConfig{}); err != nil {
		t.Fatalf("rebridge: %v", err)
	}
	c.Close()
	if _, err := NewBridge(c, a, BridgeConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed leg: %v", err)
	}
}

// After Close the legs go back to their own sources.
func TestBridgeCloseRestoresLegs(t *testing.T) {
	h := newHarness(t)
	phoneA, legA := h.pair(EndpointConfig{}, EndpointConfig{})
	phoneB, legB := h.pair(EndpointConfig{}, EndpointConfig{})
	phoneB.SetSource(loop(tone(800, 1000, 8000)))
	var heard capture
	phoneA.AddSink(&heard)
	br, err := NewBridge(legA, legB, BridgeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	eps := []*Endpoint{phoneA, phoneB, legA, legB}
	h.run([]Stream{phoneA, phoneB, br}, eps, 20)
	br.Close()
	legA.SetSource(loop(tone(800, 400, 8000)))
	h.run([]Stream{phoneA, phoneB, legA, legB}, eps, 20)
	got := heard.samples()
	bridged, after := got[10*160:20*160], got[30*160:]
	if l := toneLevel(bridged, 1000); l < 7000 {
		t.Fatalf("bridged: 1 kHz level %.0f", l)
	}
	if l := toneLevel(after, 1000); l > 100 {
		t.Fatalf("after unbridge: still hears B (%.0f)", l)
	}
	if l := toneLevel(after, 400); l < 7000 {
		t.Fatalf("after unbridge: own prompt level %.0f", l)
	}
}

// Digits cross the bridge: as telephone-events with the other leg's
// payload type, or as tones when the other leg has no telephone-event.
// They are reported on the leg they arrive on too.
func TestBridgeDigits(t *testing.T) {
	tests := []struct {
		name   string
		tevB   uint8
		source dtmf.Source
	}{
		{name: "rfc4733 to rfc4733 with another payload type", tevB: 96, source: dtmf.SourceRFC4733},
		{name: "rfc4733 to in-band", tevB: 0, source: dtmf.SourceInband},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var atLegA, atPhoneB digitLog
			phoneA, legA := h.pair(EndpointConfig{TelephoneEvent: 101}, EndpointConfig{TelephoneEvent: 101, OnDigit: atLegA.add})
			phoneB, legB := h.pair(EndpointConfig{TelephoneEvent: tt.tevB, OnDigit: atPhoneB.add}, EndpointConfig{TelephoneEvent: tt.tevB})
			br, err := NewBridge(legA, legB, BridgeConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer br.Close()
			if err := phoneA.SendDigits("147#", 200*time.Millisecond, nil); err != nil {
				t.Fatal(err)
			}
			eps := []*Endpoint{phoneA, phoneB, legA, legB}
			h.run([]Stream{phoneA, phoneB, br}, eps, 90)
			if atLegA.String() != "147#" {
				t.Fatalf("leg A reported %q", atLegA.String())
			}
			if atPhoneB.String() != "147#" {
				t.Fatalf("phone B received %q", atPhoneB.String())
			}
			for _, d := range atPhoneB.digits {
				if d.Source != tt.source || d.Duration < 180*time.Millisecond || d.Duration > 260*time.Millisecond {
					t.Fatalf("digit %+v", d)
				}
			}
			if s := phoneB.Stats(); s.RxUnknownPT != 0 {
				t.Fatalf("phone B got unknown payload types: %+v", s)
			}
		})
	}
}

// readStereo returns the two channels of a WAV file written by wav.Writer.
func readStereo(t *testing.T, path string) (left, right codec.PCM16) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 44 || binary.LittleEndian.Uint16(raw[22:]) != 2 {
		t.Fatalf("%s: not a stereo wav", path)
	}
	data := raw[44:]
	for i := 0; i+4 <= len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right
}

// Chime's stereo call recording on a bridged leg: left is what the caller
// said, right what the caller heard (the other party).
func TestBridgeStereoRecording(t *testing.T) {
	h := newHarness(t)
	phoneA, legA := h.pair(EndpointConfig{}, EndpointConfig{})
	phoneB, legB := h.pair(EndpointConfig{Codec: codec.PCMA}, EndpointConfig{Codec: codec.PCMA})
	refA := sweep(8000, 300, 1000, 8000)
	refB := sweep(8000, 1800, 3400, 8000)
	phoneA.SetSource(NewPlayer(NewPrompt(refA), 1, nil))
	phoneB.SetSource(NewPlayer(NewPrompt(refB), 1, nil))
	path := tempPath(t, "call.wav")
	rec, err := NewRecorder(RecorderConfig{Path: path, Track: TrackBoth})
	if err != nil {
		t.Fatal(err)
	}
	legA.AddSink(rec)
	br, err := NewBridge(legA, legB, BridgeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	h.run([]Stream{phoneA, phoneB, br}, []*Endpoint{phoneA, phoneB, legA, legB}, 60)
	rec.Stop()
	if res := rec.Wait(); res.Err != nil || res.Duration != 60*codec.FrameDuration {
		t.Fatalf("result %+v", res)
	}
	left, right := readStereo(t, path)
	for _, c := range []struct {
		name      string
		got       codec.PCM16
		want, not codec.PCM16
	}{
		{"left", left, refA, refB},
		{"right", right, refB, refA},
	} {
		if corr, lag := bestCorrelation(c.want, c.got, 10*codec.FrameSamples); corr < 0.97 {
			t.Fatalf("%s: correlation with its party %.3f at lag %d", c.name, corr, lag)
		}
		if corr, _ := bestCorrelation(c.not, c.got, 10*codec.FrameSamples); corr > 0.2 {
			t.Fatalf("%s: correlation with the other party %.3f", c.name, corr)
		}
	}
}
