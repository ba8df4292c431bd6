package server

// Shared pieces of the load and latency benchmarks (load_test.go,
// latency_test.go). They run only with MEDIASERVER_BENCH=1 (`make bench`):
// each drives real traffic for tens of seconds.

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// requireBench skips b unless MEDIASERVER_BENCH=1.
func requireBench(b *testing.B) {
	b.Helper()
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("load benchmark: set MEDIASERVER_BENCH=1 (make bench) to run it")
	}
}

// benchEnvInt reads a positive integer from the environment, or def.
func benchEnvInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// raiseFileLimit lifts the soft open-file limit to the hard one: a
// thousand calls need a thousand RTP sockets here and as many in sipp,
// which inherits the limit.
func raiseFileLimit(b testing.TB, need uint64) {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Fatalf("setrlimit: %v", err)
		}
	}
	if lim.Cur < need {
		b.Fatalf("open-file limit %d < %d needed (raise the hard limit: ulimit -Hn)", lim.Cur, need)
	}
}

// startBenchServer starts a server that logs only warnings and errors
// (a thousand calls' debug lines would swamp the benchmark) with an RTP
// range for calls calls. The range sits below Linux's ephemeral ports so
// other tests' ":0" sockets do not eat into it.
func startBenchServer(b testing.TB, calls int, apps []config.Application) *testServer {
	b.Helper()
	return startBenchServerAPI(b, calls, apps, false)
}

// startBenchServerAPI is startBenchServer with the control API on a
// loopback port when api is set.
func startBenchServerAPI(b testing.TB, calls int, apps []config.Application, api bool) *testServer {
	b.Helper()
	cfg := testConfig(b)
	cfg.RTP.PortMin = 20000
	cfg.RTP.PortMax = min(32766, 20000+2*calls+400)
	if (cfg.RTP.PortMax-cfg.RTP.PortMin)/2 < calls {
		b.Fatalf("%d calls do not fit the RTP range %d-%d", calls, cfg.RTP.PortMin, cfg.RTP.PortMax)
	}
	if !api {
		cfg.API.Listen = ""
	}
	logs := &warnCounter{}
	ts := startTestServer(b, cfg, apps,
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		// The tenant quotas would turn the load away: lift them well
		// above what the benchmark asks for.
		WithDefaultQuotas(tenant.Quotas{MaxConcurrentCalls: 2*calls + 100, MaxCallsPerSecond: 100000}),
		// The harness's observer keeps every event in memory, which would
		// count as the server's memory per call (and look like a leak in
		// the soak test): load runs go without it.
		WithObserver(nil))
	b.Cleanup(func() {
		if n, first := logs.summary(); n > 0 {
			b.Logf("the server logged %d warnings or errors; the first: %s", n, first)
		}
	})
	return ts
}

// warnCounter counts the server's log lines and keeps the first.
type warnCounter struct {
	mu    sync.Mutex
	n     int
	first string
}

func (w *warnCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		w.first = strings.TrimSpace(string(p))
	}
	w.n++
	return len(p), nil
}

func (w *warnCounter) summary() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.first
}

// rtpTotals are the RTP counters summed over a server's live legs.
type rtpTotals struct {
	legs, rx, tx, foreign, txErrors uint64
}

// sumRTP reads the endpoint counters of every live leg with media
// (callleg.Legs.Endpoints): the packet rates prove that the media really
// flowed during a load run.
func sumRTP(ts *testServer) rtpTotals {
	var t rtpTotals
	for _, ep := range ts.legs.Endpoints() {
		st := ep.Stats()
		t.legs++
		t.rx += st.RxPackets
		t.tx += st.TxPackets
		t.foreign += st.RxForeign
		t.txErrors += st.TxErrors
	}
	return t
}

// procSample is this process's CPU time and resident memory at a moment.
type procSample struct {
	at    time.Time
	cpu   time.Duration // user + system
	rssKB int64
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

func sampleProc(b testing.TB) procSample {
	b.Helper()
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		b.Fatalf("cpu time: %v", err)
	}
	// Fields after the command name (which may hold spaces): state is
	// field 3, utime 14, stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("/proc/self/stat: %d fields", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/self/stat: utime %q stime %q", f[11], f[12])
	}
	s.cpu = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatalf("rss: %v", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			s.rssKB, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
		}
	}
	return s
}

// liveRSS returns the resident memory after a garbage collection that
// hands freed memory back to the OS, so two samples differ by live data
// rather than by when the collector last ran.
func liveRSS(b testing.TB) int64 {
	b.Helper()
	debug.FreeOSMemory()
	return sampleProc(b).rssKB
}

// benchTable logs a small aligned table: a header row, then rows.
func benchTable(b testing.TB, header []string, rows [][]string) {
	b.Helper()
	width := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var sb strings.Builder
	for _, r := range append([][]string{header}, rows...) {
		sb.WriteString("\n")
		for i, c := range r {
			fmt.Fprintf(&sb, "%-*s  ", width[i], c)
		}
	}
	b.Log(sb.String())
}
