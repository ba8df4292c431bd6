package wav

import "math"

// Resample converts x from rate in to rate out with a Blackman-windowed
// sinc low-pass whose cutoff is 90% of the lower Nyquist frequency, so
// that decimation does not fold high frequencies into the voice band.
func Resample(x []float64, in, out int) []float64 {
	if in == out || len(x) == 0 {
		return append([]float64(nil), x...)
	}
	ratio := float64(out) / float64(in)
	// Cutoff in cycles per input sample.
	fc := 0.5 * math.Min(1, ratio) * 0.9
	// Sixteen zero crossings on each side of the kernel's centre.
	half := int(math.Ceil(8 / fc))
	const res = 64 // table steps per input sample
	table := make([]float64, half*res+2)
	for i := range table {
		d := float64(i) / res
		table[i] = 2 * fc * sinc(2*fc*d) * blackman(d/float64(half))
	}
	kernel := func(d float64) float64 {
		d = math.Abs(d) * res
		i := int(d)
		if i+1 >= len(table) {
			return 0
		}
		f := d - float64(i)
		return table[i]*(1-f) + table[i+1]*f
	}
	n := int(float64(len(x)) * ratio)
	y := make([]float64, n)
	for j := range y {
		t := float64(j) / ratio
		c := int(math.Floor(t))
		var sum float64
		for k := max(0, c-half+1); k <= c+half && k < len(x); k++ {
			sum += x[k] * kernel(t-float64(k))
		}
		y[j] = sum
	}
	return y
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window on [-1, 1], zero outside.
func blackman(u float64) float64 {
	if u < -1 || u > 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u)
}
