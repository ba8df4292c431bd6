package codec

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Codec
		wantErr error
	}{
		{name: "pcmu", in: "PCMU", want: PCMU},
		{name: "pcma lower", in: "pcma", want: PCMA},
		{name: "unknown", in: "opus", wantErr: ErrUnknownCodec},
		{name: "empty", in: "", wantErr: ErrUnknownCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPayloadTypeMapping(t *testing.T) {
	tests := []struct {
		name     string
		pt       uint8
		want     Codec
		wantName string
		wantErr  error
	}{
		{name: "pt 0", pt: 0, want: PCMU, wantName: "PCMU"},
		{name: "pt 8", pt: 8, want: PCMA, wantName: "PCMA"},
		{name: "pt 18", pt: 18, wantErr: ErrUnknownCodec},
		{name: "pt 101", pt: 101, wantErr: ErrUnknownCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ForPayloadType(tt.pt)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got != tt.want || got.String() != tt.wantName || got.PayloadType() != tt.pt {
				t.Fatalf("got %v (%s, pt %d)", got, got.String(), got.PayloadType())
			}
		})
	}
}

// Known G.711 code words (ITU-T G.711 tables).
func TestKnownCodewords(t *testing.T) {
	tests := []struct {
		name  string
		codec Codec
		in    int16
		want  byte
	}{
		{name: "ulaw zero", codec: PCMU, in: 0, want: 0xFF},
		{name: "ulaw max", codec: PCMU, in: 32767, want: 0x80},
		{name: "ulaw min", codec: PCMU, in: -32767, want: 0x00},
		{name: "ulaw -32768 full scale", codec: PCMU, in: -32768, want: 0x00},
		{name: "alaw zero", codec: PCMA, in: 0, want: 0xD5},
		{name: "alaw max", codec: PCMA, in: 32767, want: 0xAA},
		{name: "alaw -32768 full scale", codec: PCMA, in: -32768, want: 0x2A},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst [1]byte
			tt.codec.Encode(dst[:], PCM16{tt.in})
			if dst[0] != tt.want {
				t.Fatalf("encode(%d) = %#x, want %#x", tt.in, dst[0], tt.want)
			}
		})
	}
}

// The most negative sample must encode as full-scale negative, not as
// near-silence (the negation-overflow bug the clamp guards against).
func TestMostNegativeSampleIsLoud(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			var enc [1]byte
			var dec [1]int16
			c.Encode(enc[:], PCM16{-32768})
			c.Decode(dec[:], enc[:])
			if dec[0] > -30000 {
				t.Fatalf("-32768 decoded as %d, want full-scale negative", dec[0])
			}
		})
	}
	if Clamp(-32768) != -32767 || Clamp(-32767) != -32767 || Clamp(5) != 5 {
		t.Fatal("clamp is wrong")
	}
}

// A round trip must stay within G.711's quantisation error: a few percent
// of the magnitude, plus a small floor near zero.
func TestRoundTripError(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			src := make(PCM16, 65536)
			for i := range src {
				src[i] = int16(i - 32768)
			}
			enc := make(Payload, len(src))
			dec := make(PCM16, len(src))
			if n := c.Encode(enc, src); n != len(src) {
				t.Fatalf("encoded %d", n)
			}
			c.Decode(dec, enc)
			for i := range src {
				diff := math.Abs(float64(src[i]) - float64(dec[i]))
				limit := math.Abs(float64(src[i]))*0.035 + 40
				if diff > limit {
					t.Fatalf("%v: %d -> %d (diff %.0f > %.0f)", c, src[i], dec[i], diff, limit)
				}
			}
		})
	}
}

func TestSilenceByteDecodesToZero(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		var d [1]int16
		c.Decode(d[:], Payload{c.SilenceByte()})
		if d[0] < -8 || d[0] > 8 {
			t.Fatalf("%v silence decodes to %d", c, d[0])
		}
	}
}

func TestEncodeDecodeNoAlloc(t *testing.T) {
	src := make(PCM16, FrameSamples)
	enc := make(Payload, FrameSamples)
	allocs := testing.AllocsPerRun(100, func() {
		PCMU.Encode(enc, src)
		PCMA.Decode(src, enc)
	})
	if allocs != 0 {
		t.Fatalf("allocs = %v, want 0", allocs)
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.String(), func(b *testing.B) {
			src := make(PCM16, FrameSamples)
			for i := range src {
				src[i] = int16(i * 200)
			}
			dst := make(Payload, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				c.Encode(dst, src)
			}
		})
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.String(), func(b *testing.B) {
			src := make(Payload, FrameSamples)
			dst := make(PCM16, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				c.Decode(dst, src)
			}
		})
	}
}
