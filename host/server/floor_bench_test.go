package server

// The floor of the load benchmarks: tests/bench/floor (C, one thread)
// answers the same sipp scenario and moves the same packets at the same
// rates with nothing but the system calls (per 20 ms tick and call: one
// recvmmsg and one sendto). The load benchmarks run it in the same run as
// the server and report the server's CPU as a ratio to it.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildFloor compiles the floor program once per benchmark.
func buildFloor(b *testing.B) string {
	b.Helper()
	cc := requireTool(b, "cc", "gcc")
	src, err := filepath.Abs(filepath.Join(repoRoot, "tests", "bench", "floor", "floor.c"))
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "floor")
	if msg, err := exec.Command(cc, "-O2", "-o", out, src).CombinedOutput(); err != nil {
		b.Fatalf("building the floor: %v\n%s", err, msg)
	}
	return out
}

// floorProc is a running floor program.
type floorProc struct {
	cmd    *exec.Cmd
	sip    netip.AddrPort
	cancel context.CancelFunc
	done   chan struct{}

	mu                 sync.Mutex
	calls              int
	rx, tx, sipPackets uint64
}

// startFloor runs the floor with its SIP on a free loopback port and its
// RTP from rtpMin up, for at most maxCalls calls.
func startFloor(b *testing.B, bin string, rtpMin, maxCalls int) *floorProc {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &floorProc{sip: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(freePort(b, "udp"))), cancel: cancel, done: make(chan struct{})}
	f.cmd = exec.CommandContext(ctx, bin, "-sip", f.sip.String(), "-rtp", "127.0.0.1:"+strconv.Itoa(rtpMin), "-max", strconv.Itoa(maxCalls))
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	f.cmd.Stderr = os.Stderr
	if err := f.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		defer close(f.done)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				close(ready)
				first = false
			}
			var calls int
			var rx, tx, sip uint64
			if n, _ := fmt.Sscanf(sc.Text(), "calls=%d rx=%d tx=%d sip=%d", &calls, &rx, &tx, &sip); n == 4 {
				f.mu.Lock()
				f.calls, f.rx, f.tx, f.sipPackets = calls, rx, tx, sip
				f.mu.Unlock()
			}
		}
		if first {
			close(ready)
		}
		io.Copy(io.Discard, out)
	}()
	<-ready
	b.Cleanup(f.stop)
	return f
}

func (f *floorProc) stop() {
	f.cancel()
	<-f.done
	f.cmd.Wait()
}

func (f *floorProc) counters() (calls int, rx, tx uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.rx, f.tx
}

// floorResult is the floor's figures over a hold window.
type floorResult struct {
	held                 int
	cpuMsPerCallS        float64
	rxPPS, txPPS, window float64
	rssKB                int64
	failed               int
}

// measureFloor runs sipp's scenario against the floor with calls calls at
// rate, waits until they are all up (the floor reports once a second),
// and measures the floor's CPU over hold.
func measureFloor(b *testing.B, sipp, bin, scenario string, calls, rate int, hold time.Duration) floorResult {
	b.Helper()
	f := startFloor(b, bin, 24000, calls+10)
	dir := b.TempDir()
	writeRawPCMU(b, filepath.Join(dir, "load.raw"), 2*time.Second)
	ramp := time.Duration(calls/rate+1) * time.Second
	callLen := ramp + hold + 5*time.Second
	res := make(chan sippLoadResult, 1)
	go func() {
		r, err := runSippLoad(b, sipp, nil, sippLoad{Target: f.sip,
			Dir: dir, Scenario: scenario, Rate: rate, Calls: calls, Limit: calls,
			CallLength: callLen, Timeout: callLen + ramp + 60*time.Second,
		})
		if err != nil {
			b.Log(err)
		}
		res <- r
	}()
	deadline := time.Now().Add(ramp + 15*time.Second)
	for time.Now().Before(deadline) {
		if n, _, _ := f.counters(); n >= calls {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond) // a fresh report of the counters
	pid := f.cmd.Process.Pid
	start := sampleProcOf(b, pid)
	held, rx0, tx0 := f.counters()
	for end := time.Now().Add(hold); time.Now().Before(end); {
		time.Sleep(500 * time.Millisecond)
		n, _, _ := f.counters()
		held = min(held, n)
	}
	stop := sampleProcOf(b, pid)
	time.Sleep(1100 * time.Millisecond)
	_, rx1, tx1 := f.counters()
	r := <-res
	f.stop()
	window := stop.at.Sub(start.at).Seconds()
	out := floorResult{held: held, window: window, rssKB: stop.rssKB, failed: r.Failed}
	if held > 0 {
		out.cpuMsPerCallS = (stop.cpu - start.cpu).Seconds() / window / float64(held) * 1000
	}
	// The counters come once a second: rates over the window plus the
	// reporting delay, close enough to show that the packets flowed.
	span := window + 1.1
	out.rxPPS = float64(rx1-rx0) / span
	out.txPPS = float64(tx1-tx0) / span
	return out
}

// sampleProcOf is sampleProc for another process.
func sampleProcOf(b testing.TB, pid int) procSample {
	b.Helper()
	s, err := readProc(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// readProc reads CPU time and resident memory from a /proc/<pid> folder.
func readProc(dir string) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, fmt.Errorf("cpu time: %w", err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("%s/stat: %d fields", dir, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("%s/stat: utime %q stime %q", dir, f[11], f[12])
	}
	s.cpu = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("rss: %w", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			s.rssKB, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return s, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
		}
	}
	return s, nil
}

// startBackgroundCalls holds n sipp IVR calls (RTP both ways) on ts for
// the rest of the benchmark, so that a latency is measured under load
// (MEDIASERVER_BENCH_BACKGROUND). It returns once they are all up.
func startBackgroundCalls(b *testing.B, ts *testServer, n int) {
	b.Helper()
	sipp := requireTool(b, "sipp", "sip-tester")
	raiseFileLimit(b, uint64(3*n+200))
	dir := b.TempDir()
	writeRawPCMU(b, filepath.Join(dir, "load.raw"), 2*time.Second)
	const rate = 100
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Long enough for any latency run; killed when the benchmark ends.
		runSippLoad(b, sipp, ts, sippLoad{Ctx: ctx, Dir: dir, Scenario: "uac_hold", Rate: rate, Calls: n, Limit: n,
			CallLength: 30 * time.Minute, Timeout: 31 * time.Minute})
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(time.Duration(n/rate+15) * time.Second)
	for ts.LiveLegs() < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := ts.LiveLegs(); got < n {
		b.Fatalf("background load: %d of %d calls up", got, n)
	}
	b.Logf("background load: %d IVR calls held, RTP both ways", n)
}

// benchEnvIntOr0 is benchEnvInt with 0 allowed and the default.
func benchEnvIntOr0(b *testing.B, name string) int {
	b.Helper()
	if os.Getenv(name) == "" || os.Getenv(name) == "0" {
		return 0
	}
	return benchEnvInt(b, name, 0)
}
