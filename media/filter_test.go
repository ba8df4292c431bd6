package media

import (
	"testing"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// halve is a Filter that halves the amplitude.
type halve struct{ frames int }

func (h *halve) FilterFrame(pcm codec.PCM16) {
	h.frames++
	for i := range pcm {
		pcm[i] /= 2
	}
}

// A receive filter comes before the sinks (recording) and the bridge: both
// get the filtered audio, also when the bridge relays G.711 unchanged.
func TestFilterBeforeSinksAndBridge(t *testing.T) {
	h := newHarness(t)
	phoneA, legA := h.pair(EndpointConfig{Codec: codec.PCMU}, EndpointConfig{Codec: codec.PCMU})
	phoneB, legB := h.pair(EndpointConfig{Codec: codec.PCMU}, EndpointConfig{Codec: codec.PCMU})
	ref := sweep(4000, 300, 1200, 12000)
	phoneA.SetSource(NewPlayer(NewPrompt(ref), 1, nil))
	f := &halve{}
	legA.SetFilter(f)
	var recorded, heardB capture
	legA.AddSink(&recorded)
	phoneB.AddSink(&heardB)
	br, err := NewBridge(legA, legB, BridgeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	h.run([]Stream{phoneA, phoneB, br}, []*Endpoint{phoneA, phoneB, legA, legB}, 40)
	for _, c := range []struct {
		who string
		got codec.PCM16
	}{{"recorded on leg A", recorded.samples()}, {"heard by B", heardB.samples()}} {
		corr, lag := bestCorrelation(ref, c.got, 8*codec.FrameSamples)
		if corr < 0.95 {
			t.Fatalf("%s: correlation %.3f", c.who, corr)
		}
		if r := rms(c.got[lag:lag+len(ref)]) / rms(ref); r < 0.45 || r > 0.55 {
			t.Fatalf("%s: energy ratio %.3f, want 0.5 (filtered)", c.who, r)
		}
	}
	if f.frames < 20 {
		t.Fatalf("filter ran on %d frames", f.frames)
	}
	legA.SetFilter(nil)
}
