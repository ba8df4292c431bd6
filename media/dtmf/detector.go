package dtmf

import (
	"math"
	"time"

	"github.com/wasmvoice/mediaserver/media/codec"
)

// The DTMF frequency grid (ITU-T Q.23).
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad maps row, column to the digit.
const keypad = "123A456B789C*0#D"

// Detector thresholds. Power ratios, not dB.
const (
	// minAmplitude is the smallest per-tone peak amplitude accepted
	// (about -37 dBm0 in G.711 units): quieter tones are line noise.
	minAmplitude = 300.0
	// normalTwist: the high (column) tone may exceed the low one by 8 dB.
	normalTwist = 6.31
	// reverseTwist: the low (row) tone may exceed the high one by 4 dB.
	reverseTwist = 2.51
	// relativePeak: the chosen row/column must beat the others in its group
	// by 8 dB; leakage between neighbouring bins over 160 samples is ~13 dB.
	relativePeak = 6.31
	// toTotalEnergy: the two tones must carry most of the block's energy.
	// Speech and music spread energy over many harmonics and fail here.
	toTotalEnergy = 0.55
	// secondHarmonic: energy at twice a tone's frequency must be at least
	// 10 dB below it. Voiced speech is rich in harmonics, DTMF is not.
	secondHarmonic = 0.1
	// stableBlocks and releaseBlocks are 40 ms at 20 ms per block.
	stableBlocks  = 2
	releaseBlocks = 2
)

// Detector finds DTMF digits in 8 kHz PCM using the Goertzel algorithm on
// frame-aligned 160-sample (20 ms) blocks. A digit is reported once, when
// it is released (the tone stopped for 40 ms), after having been stable
// for at least 40 ms; the report carries the measured duration.
//
// A Detector is not safe for concurrent use.
type Detector struct {
	emit    func(Received)
	coef    [8]float64 // rows then columns
	coef2   [8]float64 // second harmonics
	current byte       // digit being held, 0 = none
	cand    byte       // candidate of the last block
	run     int        // consecutive blocks of cand
	misses  int        // consecutive blocks without current
	hits    int        // blocks of current
}

// NewDetector returns a detector that reports digits to emit; emit runs
// on the goroutine calling Process and must not block.
func NewDetector(emit func(Received)) *Detector {
	d := &Detector{emit: emit}
	for i := 0; i < 4; i++ {
		d.coef[i] = goertzelCoef(rowFreqs[i])
		d.coef[4+i] = goertzelCoef(colFreqs[i])
		d.coef2[i] = goertzelCoef(2 * rowFreqs[i])
		d.coef2[4+i] = goertzelCoef(2 * colFreqs[i])
	}
	return d
}

func goertzelCoef(f float64) float64 {
	return 2 * math.Cos(2*math.Pi*f/codec.SampleRate)
}

// goertzel returns the squared peak amplitude of the frequency whose
// coefficient is coef in x.
func goertzel(x codec.PCM16, coef float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + coef*s1 - s2
		s2 = s1
		s1 = s
	}
	p := s1*s1 + s2*s2 - coef*s1*s2
	n := float64(len(x))
	return 4 * p / (n * n)
}

// Process analyses one frame (normally 160 samples).
func (d *Detector) Process(frame codec.PCM16) {
	d.step(d.classify(frame))
}

// classify returns the digit present in the block, or 0.
func (d *Detector) classify(x codec.PCM16) byte {
	if len(x) < 80 {
		return 0
	}
	var amp [8]float64
	for i := range amp {
		amp[i] = goertzel(x, d.coef[i])
	}
	row, col := 0, 4
	for i := 1; i < 4; i++ {
		if amp[i] > amp[row] {
			row = i
		}
		if amp[4+i] > amp[col] {
			col = 4 + i
		}
	}
	r, c := amp[row], amp[col]
	if r < minAmplitude*minAmplitude || c < minAmplitude*minAmplitude {
		return 0
	}
	if c > r*normalTwist || r > c*reverseTwist {
		return 0
	}
	for i := 0; i < 4; i++ {
		if i != row && amp[i]*relativePeak > r {
			return 0
		}
		if 4+i != col && amp[4+i]*relativePeak > c {
			return 0
		}
	}
	var energy float64
	for _, v := range x {
		energy += float64(v) * float64(v)
	}
	// A sinusoid of peak A carries N*A²/2 over the block.
	if (r+c)*float64(len(x))/2 < toTotalEnergy*energy {
		return 0
	}
	// The column tone leaks into the bins at twice the row frequencies
	// (1394-1882 Hz) by up to -13 dB over 160 samples, so the row check
	// allows for it.
	if goertzel(x, d.coef2[row]) > (r+c)*secondHarmonic || goertzel(x, d.coef2[col]) > c*secondHarmonic {
		return 0
	}
	return keypad[row*4+col-4]
}

func (d *Detector) step(got byte) {
	if got != 0 && got == d.cand {
		d.run++
	} else {
		d.cand = got
		d.run = 1
	}
	if d.current != 0 {
		if got == d.current {
			d.misses = 0
			d.hits++
			return
		}
		d.misses++
		if d.misses < releaseBlocks && got == 0 {
			return
		}
		d.release()
	}
	if got != 0 && d.run >= stableBlocks {
		d.current = got
		d.hits = d.run
		d.misses = 0
	}
}

func (d *Detector) release() {
	if d.emit != nil {
		d.emit(Received{Digit: d.current, Duration: time.Duration(d.hits) * tickDuration, Source: SourceInband})
	}
	d.current = 0
	d.hits = 0
	d.misses = 0
}

// Reset forgets any tone in progress without reporting it.
func (d *Detector) Reset() {
	d.current, d.cand, d.run, d.misses, d.hits = 0, 0, 0, 0, 0
}
