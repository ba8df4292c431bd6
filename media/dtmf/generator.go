package dtmf

import (
	"math"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// DefaultToneAmplitude is the peak of each of the two sinusoids, about
// -10 dBm0 per tone (0 dBm0 peaks near 22 700 in 16-bit G.711 scale).
const DefaultToneAmplitude = 7000

// Frequencies returns the low (row) and high (column) frequency of digit.
func Frequencies(digit byte) (low, high float64, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := 0; i < len(keypad); i++ {
		if keypad[i] == digit {
			return rowFreqs[i/4], colFreqs[i%4], true
		}
	}
	return 0, 0, false
}

// Generate writes the dual tone of digit into dst, starting at sample
// offset (so consecutive frames continue the phase), with each tone at
// peak amplitude amp. An unknown digit writes silence.
func Generate(dst codec.PCM16, digit byte, offset int, amp float64) {
	low, high, ok := Frequencies(digit)
	if !ok {
		clear(dst)
		return
	}
	wl := 2 * math.Pi * low / codec.SampleRate
	wh := 2 * math.Pi * high / codec.SampleRate
	for i := range dst {
		n := float64(offset + i)
		v := amp * (math.Sin(wl*n) + math.Sin(wh*n))
		dst[i] = int16(max(-32767, min(32767, math.Round(v))))
	}
}
