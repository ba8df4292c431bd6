//go:build soak

package server

// The soak test: sipp keeps the demo IVR busy for a long time in rounds,
// and after every round the server must be back where it started — no
// call, SIP leg or RTP port left, and no growth of goroutines or live heap
// beyond a small margin. It checks for leaks, not speed. Run it with
// `make soak`, or:
//
//	go test -tags soak -run TestSoak -timeout 60m -v ./host/server/
//
// The build tag keeps it out of `make test`.
//
// MEDIASERVER_SOAK_MINUTES (default 10) sets its length,
// MEDIASERVER_SOAK_CPS (default 50) the call rate.

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
)

func TestSoak(t *testing.T) {
	sipp := requireTool(t, "sipp", "sip-tester")
	minutes := soakEnvInt(t, "MEDIASERVER_SOAK_MINUTES", 10)
	cps := soakEnvInt(t, "MEDIASERVER_SOAK_CPS", 50)
	const round, callLen = time.Minute, 3 * time.Second
	raiseFileLimit(t, uint64(8*cps+200))
	ts := startBenchServer(t, 4*cps, []config.Application{demoApp(t, config.DemoNumber)})
	warmUp(t, sipp, ts)

	type sample struct {
		goroutines int
		heapMB     float64
	}
	measure := func() sample {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return sample{runtime.NumGoroutine(), float64(m.HeapAlloc) / (1 << 20)}
	}
	var first sample
	var rows [][]string
	total := 0
	for i := range minutes {
		calls := cps * int(round/time.Second)
		r, err := runSippLoad(t, sipp, ts, sippLoad{
			Dir: t.TempDir(), Scenario: "uac_short", Rate: cps, Calls: calls, Limit: 4 * cps,
			CallLength: callLen, Timeout: round + callLen + time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		drainCalls(t, ts)
		s := measure()
		if i == 0 {
			first = s
		}
		total += r.Successful
		rows = append(rows, []string{strconv.Itoa(i + 1), strconv.Itoa(r.Successful), strconv.Itoa(r.Failed),
			strconv.Itoa(ts.LiveLegs()), strconv.Itoa(ts.PortsInUse()), strconv.Itoa(len(ts.Engine().Calls())),
			strconv.Itoa(s.goroutines), fmt.Sprintf("%.1f", s.heapMB)})
		if r.Failed > 0 || r.Successful != calls {
			t.Errorf("round %d: %d of %d calls succeeded, %d failed; sipp errors:\n%s", i+1, r.Successful, calls, r.Failed, tail(r.Errors, 1500))
		}
		if ts.LiveLegs() != 0 || ts.PortsInUse() != 0 || len(ts.Engine().Calls()) != 0 {
			t.Errorf("round %d: after the calls ended, %d SIP legs, %d RTP ports and %d engine calls remain",
				i+1, ts.LiveLegs(), ts.PortsInUse(), len(ts.Engine().Calls()))
		}
		// Leaks grow with every round; a warm pool and caches do not.
		if s.goroutines > first.goroutines+50 {
			t.Errorf("round %d: %d goroutines, %d after the first round", i+1, s.goroutines, first.goroutines)
		}
		if s.heapMB > first.heapMB+32 {
			t.Errorf("round %d: live heap %.1f MB, %.1f MB after the first round", i+1, s.heapMB, first.heapMB)
		}
	}
	benchTable(t, []string{"round", "ok", "failed", "legs left", "ports left", "engine calls", "goroutines", "heap MB"}, rows)
	t.Logf("%d calls in %d minutes at %d calls/s", total, minutes, cps)
}

func soakEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
