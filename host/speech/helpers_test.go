package speech

import (
	"context"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/internal/assets"
	"github.com/wasmvoice/mediaserver/media/codec"
)

var (
	fliteOnce sync.Once
	fliteEng  *Flite
	fliteErr  error
)

// testFlite compiles flite.wasm once for the package's tests. A missing
// file fails under CI=true and skips otherwise.
func testFlite(t testing.TB) *Flite {
	t.Helper()
	fliteOnce.Do(func() {
		p, err := assets.Path("flite.wasm")
		if err != nil {
			fliteErr = err
			return
		}
		fliteEng, fliteErr = NewFlite(context.Background(), FliteConfig{Wasm: p, CacheDir: os.TempDir() + "/mediaserver-test-wazero"})
	})
	if fliteErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("flite: %v", fliteErr)
		}
		t.Skipf("flite: %v", fliteErr)
	}
	return fliteEng
}

// rmsDBFS is the level of x in dBFS (-100 for silence).
func rmsDBFS(x codec.PCM16) float64 {
	if len(x) == 0 {
		return -100
	}
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	r := math.Sqrt(sum / float64(len(x)))
	if r < 1 {
		return -100
	}
	return 20 * math.Log10(r/32768)
}

// frameLevels is the level of each 20 ms frame.
func frameLevels(x codec.PCM16) []float64 {
	var out []float64
	for i := 0; i+codec.FrameSamples <= len(x); i += codec.FrameSamples {
		out = append(out, rmsDBFS(x[i:i+codec.FrameSamples]))
	}
	return out
}

// longestQuiet is the longest run of frames under -55 dBFS, in frames, and
// where it starts.
func longestQuiet(levels []float64) (n, at int) {
	run := 0
	for i, l := range levels {
		if l < -55 {
			run++
			if run > n {
				n, at = run, i-run+1
			}
		} else {
			run = 0
		}
	}
	return n, at
}

// loudFrames counts frames over -40 dBFS.
func loudFrames(levels []float64) int {
	n := 0
	for _, l := range levels {
		if l > -40 {
			n++
		}
	}
	return n
}

// testWriter sends log output to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
