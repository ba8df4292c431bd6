package server

// Load benchmarks with sipp as the caller against the demo IVR Wasm
// plugin: how many concurrent calls the server holds while each plays a
// prompt and receives RTP, and how many calls per second it sets up and
// tears down. Run with `make bench`, or one of them:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkLoadConcurrentCalls -benchtime 1x ./host/server/
//
// MEDIASERVER_BENCH_CALLS (default 1000) and MEDIASERVER_BENCH_HOLD
// (seconds, default 20) size the first; MEDIASERVER_BENCH_RATES (default
// "100,200,400,800") lists the steps of the second.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// BenchmarkLoadConcurrentCalls ramps sipp to N calls at 100 calls/s, each
// sending RTP while the IVR greeting plays, holds them, and measures over
// the hold window: the calls held, this process's CPU per call-second and
// resident memory per call.
func BenchmarkLoadConcurrentCalls(b *testing.B) {
	requireBench(b)
	sipp := requireTool(b, "sipp", "sip-tester")
	calls := benchEnvInt(b, "MEDIASERVER_BENCH_CALLS", 1000)
	hold := time.Duration(benchEnvInt(b, "MEDIASERVER_BENCH_HOLD", 20)) * time.Second
	const rate = 100
	raiseFileLimit(b, uint64(3*calls+200))
	floorBin := buildFloor(b)
	ts := startBenchServer(b, calls, []config.Application{demoApp(b, config.DemoNumber)})
	warmUp(b, sipp, ts)

	ramp := time.Duration(calls/rate+1) * time.Second
	// Every call lasts the ramp, the hold and a margin, so all N are up
	// together for the hold window.
	callLen := ramp + hold + 5*time.Second
	dir := b.TempDir()
	writeRawPCMU(b, filepath.Join(dir, "load.raw"), 2*time.Second)
	before := sampleProc(b)
	before.rssKB = liveRSS(b)

	b.ResetTimer()
	type result struct {
		r   sippLoadResult
		err error
	}
	res := make(chan result, 1)
	go func() {
		r, err := runSippLoad(b, sipp, ts, sippLoad{
			Dir: dir, Scenario: "uac_hold", Rate: rate, Calls: calls, Limit: calls,
			CallLength: callLen, Timeout: callLen + ramp + 60*time.Second,
		})
		res <- result{r, err}
	}()
	// Wait until every call is up (or the ramp has clearly stalled).
	deadline := time.Now().Add(ramp + 15*time.Second)
	for ts.LiveLegs() < calls && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	start, rtp0 := sampleProc(b), sumRTP(ts)
	held := ts.LiveLegs()
	for end := time.Now().Add(hold); time.Now().Before(end); {
		time.Sleep(500 * time.Millisecond)
		held = min(held, ts.LiveLegs())
	}
	stop, rtp1 := sampleProc(b), sumRTP(ts)
	stop.rssKB = liveRSS(b)
	b.StopTimer()
	out := <-res
	if out.err != nil {
		b.Fatal(out.err)
	}
	r := out.r
	drainCalls(b, ts)
	// The floor: the same sipp load, the same packets, nothing else.
	fl := measureFloor(b, sipp, floorBin, "uac_hold", calls, rate, hold)

	window := stop.at.Sub(start.at).Seconds()
	cpu := (stop.cpu - start.cpu).Seconds()
	cpuPerCall := math.NaN()
	rssPerCall := math.NaN()
	if held > 0 {
		cpuPerCall = cpu / window / float64(held) * 1000
		rssPerCall = float64(stop.rssKB-before.rssKB) / float64(held)
	}
	b.ReportMetric(float64(held), "calls")
	b.ReportMetric(cpuPerCall, "cpu_ms_per_call_s")
	b.ReportMetric(fl.cpuMsPerCallS, "floor_cpu_ms_per_call_s")
	b.ReportMetric(cpuPerCall/fl.cpuMsPerCallS, "x_floor")
	b.ReportMetric(1000/cpuPerCall, "calls_per_core")
	b.ReportMetric(rssPerCall, "rss_kb_per_call")
	b.ReportMetric(float64(r.Failed), "failed_calls")
	// Counters of legs that ended inside the window are lost, so these
	// rates are a lower bound; with every call held they are exact.
	txPPS := float64(rtp1.tx-min(rtp1.tx, rtp0.tx)) / window
	rxPPS := float64(rtp1.rx-min(rtp1.rx, rtp0.rx)) / window
	b.ReportMetric(txPPS, "rtp_tx_pps")
	b.ReportMetric(rxPPS, "rtp_rx_pps")
	benchTable(b, []string{"calls wanted", "held", "hold s", "cpu s", "cpu ms/call/s", "rss before kB", "rss held kB", "kB/call", "rtp tx/s", "rtp rx/s", "foreign", "tx errors", "clock overruns", "sipp ok", "failed"},
		[][]string{{strconv.Itoa(calls), strconv.Itoa(held), fmt.Sprintf("%.1f", window), fmt.Sprintf("%.2f", cpu),
			fmt.Sprintf("%.3f", cpuPerCall), strconv.FormatInt(before.rssKB, 10), strconv.FormatInt(stop.rssKB, 10),
			fmt.Sprintf("%.1f", rssPerCall), fmt.Sprintf("%.0f", txPPS), fmt.Sprintf("%.0f", rxPPS),
			strconv.FormatUint(rtp1.foreign, 10), strconv.FormatUint(rtp1.txErrors, 10), strconv.FormatUint(ts.Server.clock.Overruns(), 10), strconv.Itoa(r.Successful), strconv.Itoa(r.Failed)}})
	benchTable(b, []string{"floor (tests/bench/floor)", "held", "hold s", "cpu ms/call/s", "rss kB", "rtp rx/s", "rtp tx/s", "failed", "server ÷ floor", "server calls/core", "floor calls/core"},
		[][]string{{"same sipp load", strconv.Itoa(fl.held), fmt.Sprintf("%.1f", fl.window), fmt.Sprintf("%.3f", fl.cpuMsPerCallS),
			strconv.FormatInt(fl.rssKB, 10), fmt.Sprintf("%.0f", fl.rxPPS), fmt.Sprintf("%.0f", fl.txPPS), strconv.Itoa(fl.failed),
			fmt.Sprintf("%.2f", cpuPerCall/fl.cpuMsPerCallS), fmt.Sprintf("%.0f", 1000/cpuPerCall), fmt.Sprintf("%.0f", 1000/fl.cpuMsPerCallS)}})
	if r.Failed > 0 || held < calls {
		b.Logf("sipp exit %d; errors:\n%s\noutput:\n%s", r.Exit, tail(r.Errors, 2000), tail(r.Output, 2000))
	}
}

// BenchmarkLoadCallRate runs short calls (INVITE, 200, ACK, 1 s of the IVR
// greeting while the caller streams RTP, BYE) at rising rates, 5 s per
// step, until the first step with a failed call, and reports the highest
// step at which every call succeeded, with the CPU per call of each step.
// MEDIASERVER_BENCH_RATES lists the steps; by default they rise from 100
// by 100 up to 900 calls/s, where sipp's media ports for 5 s of calls
// would run into the server's RTP range. The floor answers the highest
// step that held, in the same run.
func BenchmarkLoadCallRate(b *testing.B) {
	requireBench(b)
	sipp := requireTool(b, "sipp", "sip-tester")
	var rates []int
	for _, s := range strings.Split(envOr("MEDIASERVER_BENCH_RATES", "100,200,300,400,500,600,700,800,900"), ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r < 1 {
			b.Fatalf("MEDIASERVER_BENCH_RATES: %q is not a rate", s)
		}
		rates = append(rates, r)
	}
	const seconds, callLen = 5, time.Second
	maxRate := 0
	for _, r := range rates {
		maxRate = max(maxRate, r)
	}
	raiseFileLimit(b, uint64(4*maxRate+200))
	floorBin := buildFloor(b)
	ts := startBenchServer(b, 2*maxRate, []config.Application{demoApp(b, config.DemoNumber)})
	warmUp(b, sipp, ts)

	b.ResetTimer()
	best, bestCPU := 0, math.NaN()
	var rows [][]string
	for _, rate := range rates {
		dir := b.TempDir()
		writeRawPCMU(b, filepath.Join(dir, "load.raw"), 2*time.Second)
		start := sampleProc(b)
		r, err := runSippLoad(b, sipp, ts, sippLoad{
			Dir: dir, Scenario: "uac_short_rtp", Rate: rate, Calls: rate * seconds, Limit: 2 * rate,
			CallLength: callLen, Timeout: seconds*time.Second + callLen + 60*time.Second,
		})
		if err != nil {
			b.Fatal(err)
		}
		stop := sampleProc(b)
		drainCalls(b, ts)
		elapsed := stop.at.Sub(start.at).Seconds()
		cpu := (stop.cpu - start.cpu).Seconds()
		ok := r.Exit == 0 && r.Failed == 0 && r.Successful == rate*seconds
		rows = append(rows, []string{strconv.Itoa(rate), strconv.Itoa(rate * seconds), strconv.Itoa(r.Successful),
			strconv.Itoa(r.Failed), fmt.Sprintf("%.1f", elapsed), fmt.Sprintf("%.2f", cpu),
			fmt.Sprintf("%.3f", cpu*1000/float64(rate*seconds)), strconv.FormatBool(ok)})
		if !ok {
			b.Logf("rate %d: sipp exit %d; errors:\n%s", rate, r.Exit, tail(r.Errors, 1500))
			break
		}
		best, bestCPU = rate, cpu*1000/float64(rate*seconds)
	}
	b.StopTimer()
	b.ReportMetric(float64(best), "cps")
	b.ReportMetric(bestCPU, "cpu_ms_per_call")
	benchTable(b, []string{"rate/s", "calls", "ok", "failed", "elapsed s", "cpu s", "cpu ms/call", "all ok"}, rows)
	if best == 0 {
		return
	}
	// The floor at the highest step that held: the same calls and RTP.
	f := startFloor(b, floorBin, 24000, 2*best+10)
	dir := b.TempDir()
	writeRawPCMU(b, filepath.Join(dir, "load.raw"), 2*time.Second)
	pid := f.cmd.Process.Pid
	start := sampleProcOf(b, pid)
	r, err := runSippLoad(b, sipp, nil, sippLoad{Target: f.sip,
		Dir: dir, Scenario: "uac_short_rtp", Rate: best, Calls: best * seconds, Limit: 2 * best,
		CallLength: callLen, Timeout: seconds*time.Second + callLen + 60*time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	stop := sampleProcOf(b, pid)
	floorCPU := (stop.cpu - start.cpu).Seconds() * 1000 / float64(best*seconds)
	b.ReportMetric(floorCPU, "floor_cpu_ms_per_call")
	benchTable(b, []string{"floor (tests/bench/floor)", "rate/s", "ok", "failed", "cpu ms/call", "server ÷ floor"},
		[][]string{{"same calls, same RTP", strconv.Itoa(best), strconv.Itoa(r.Successful), strconv.Itoa(r.Failed),
			fmt.Sprintf("%.3f", floorCPU), fmt.Sprintf("%.2f", bestCPU/floorCPU)}})
}

// warmUp places one call so the plugin is compiled and an instance warm
// before anything is measured.
func warmUp(b testing.TB, sipp string, ts *testServer) {
	b.Helper()
	dir := b.TempDir()
	r, err := runSippLoad(b, sipp, ts, sippLoad{Dir: dir, Scenario: "uac_short", Rate: 1, Calls: 1, Limit: 1,
		CallLength: 200 * time.Millisecond, Timeout: 60 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	if r.Exit != 0 || r.Successful != 1 {
		b.Fatalf("warm-up call failed: exit %d\n%s\n%s", r.Exit, r.Errors, tail(r.Output, 2000))
	}
	drainCalls(b, ts)
}

// drainCalls waits up to 30 s for the server to end every call. Calls
// still up then (sipp gave up on them under load) are logged, not
// failed: the server's Close ends them, and its cleanup checks the ports.
func drainCalls(b testing.TB, ts *testServer) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ts.LiveLegs() == 0 && ts.PortsInUse() == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("after the run: %d SIP legs and %d RTP ports still in use", ts.LiveLegs(), ts.PortsInUse())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// sippMediaBase picks sipp's -mp. Its [auto_media_port] is -mp plus 2 per
// call, so a base among the ephemeral ports runs past 65535 within a few
// thousand calls (the server rightly answers 400 to such an SDP). The base
// is a free port from 10000 up, low enough that calls calls stay below the
// benchmarks' RTP range (20000 and up); random, so parallel runs differ.
func sippMediaBase(calls int) (int, error) {
	top := 20000 - 2*calls - 2
	if top <= 10002 {
		return 0, fmt.Errorf("%d calls in one sipp run would run its media ports into the server's RTP range", calls)
	}
	for range 100 {
		p := 10000 + 2*rand.IntN((top-10000)/2)
		if c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			c.Close()
			return p, nil
		}
	}
	return 0, errors.New("no free UDP port for sipp's media")
}

// sippLoad is one sipp load run.
type sippLoad struct {
	Target     netip.AddrPort  // where to call; the test server's SIP over UDP when unset
	Ctx        context.Context // ends sipp when done; none when nil
	Dir        string          // sipp's working directory (load.raw lives here)
	Scenario   string          // file in testdata/load, without .xml
	Service    string          // the number called; config.DemoNumber when empty
	Rate       int             // new calls per second
	Calls      int             // calls in all (-m)
	Limit      int             // concurrent calls at most (-l)
	CallLength time.Duration
	Timeout    time.Duration
}

// sippLoadResult is sipp's verdict.
type sippLoadResult struct {
	Exit               int
	Successful, Failed int
	Output, Errors     string
}

// runSippLoad runs sipp against ts and reads its final statistics.
// It does not fail b itself, so it may run on another goroutine.
func runSippLoad(b testing.TB, sipp string, ts *testServer, l sippLoad) (sippLoadResult, error) {
	mediaBase, err := sippMediaBase(l.Calls)
	if err != nil {
		return sippLoadResult{}, err
	}
	service := l.Service
	if service == "" {
		service = config.DemoNumber
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", "load", l.Scenario+".xml"))
	if err != nil {
		return sippLoadResult{}, err
	}
	stats := filepath.Join(l.Dir, "stats.csv")
	target := l.Target
	if !target.IsValid() {
		target = ts.SIPAddr("udp")
	}
	args := []string{target.String(),
		"-sf", scenario, "-s", service,
		"-r", strconv.Itoa(l.Rate), "-m", strconv.Itoa(l.Calls), "-l", strconv.Itoa(l.Limit),
		"-d", strconv.Itoa(int(l.CallLength / time.Millisecond)),
		"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(b, "udp")), "-t", "u1",
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(mediaBase),
		"-timeout", strconv.Itoa(int(l.Timeout/time.Second)) + "s", "-timeout_error",
		"-recv_timeout", "10s", "-nostdin", "-nd", "-rtp_threadtasks", "100",
		"-trace_stat", "-stf", stats, "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(l.Dir, "err.log"),
	}
	parent := l.Ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, l.Timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, args...)
	cmd.Dir = l.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	res := sippLoadResult{Output: out.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Exit = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("sipp: %w\n%s", err, tail(out.String(), 2000))
	}
	errs, _ := os.ReadFile(filepath.Join(l.Dir, "err.log"))
	res.Errors = string(errs)
	res.Successful, res.Failed, err = sippStats(stats)
	if err != nil {
		return res, fmt.Errorf("%w\nsipp output:\n%s", err, tail(out.String(), 2000))
	}
	return res, nil
}

// sippStats reads the cumulative successful and failed call counts from
// the last line of sipp's -trace_stat file.
func sippStats(path string) (successful, failed int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("sipp statistics: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		return 0, 0, fmt.Errorf("sipp statistics: %d lines", len(lines))
	}
	header := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	col := func(name string) (int, error) {
		for i, h := range header {
			if strings.TrimSpace(h) == name && i < len(last) {
				n, err := strconv.Atoi(strings.TrimSpace(last[i]))
				if err != nil {
					return 0, fmt.Errorf("sipp statistics: %s = %q", name, last[i])
				}
				return n, nil
			}
		}
		return 0, fmt.Errorf("sipp statistics: no column %s", name)
	}
	if successful, err = col("SuccessfulCall(C)"); err != nil {
		return 0, 0, err
	}
	failed, err = col("FailedCall(C)")
	return successful, failed, err
}

// writeRawPCMU writes d of a quiet 440 Hz tone as headerless PCMU, the
// format of sipp's rtp_stream action, which loops it as 20 ms packets.
// rtp_stream runs on a few sipp threads (-rtp_threadtasks calls each);
// play_pcap_audio takes a thread per call, which alone saturates this
// machine's two cores at a thousand calls.
func writeRawPCMU(b testing.TB, path string, d time.Duration) {
	b.Helper()
	pcm := make(codec.PCM16, int(d.Seconds()*codec.SampleRate))
	for i := range pcm {
		pcm[i] = int16(1000 * math.Sin(2*math.Pi*440*float64(i)/codec.SampleRate))
	}
	raw := make(codec.Payload, len(pcm))
	codec.PCMU.Encode(raw, pcm)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		b.Fatal(err)
	}
}
