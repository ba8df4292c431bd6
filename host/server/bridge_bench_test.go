package server

// BenchmarkBridgedCalls: sipp (UAC) calls the server, the plugin bridges
// each call to sipp (UAS) behind a trunk, both sipps stream PCMU RTP
// (relay path: the same codec on both legs); the benchmark holds N
// bridged calls and measures this process's CPU per bridged call.
//
//	MEDIASERVER_BENCH=1 MEDIASERVER_BENCH_BRIDGED=500 MEDIASERVER_BENCH_HOLD=20 \
//	  go test -run '^$' -bench BenchmarkBridgedCalls -benchtime 1x ./host/server/

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/media/codec"
)

// writeBridgeRaw writes d of a quiet 440 Hz tone as headerless PCMU,
// the format of sipp's rtp_stream.
func writeBridgeRaw(b *testing.B, path string, d time.Duration) {
	b.Helper()
	pcm := tone(440, d, 1000)
	raw := make(codec.Payload, len(pcm))
	codec.PCMU.Encode(raw, pcm)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkBridgedCalls(b *testing.B) {
	requireBench(b)
	sipp := requireTool(b, "sipp", "sip-tester")
	calls := benchEnvInt(b, "MEDIASERVER_BENCH_BRIDGED", 100)
	hold := time.Duration(benchEnvInt(b, "MEDIASERVER_BENCH_HOLD", 10)) * time.Second
	const rate = 50
	raiseFileLimit(b, uint64(6*calls+200))
	floorBin := buildFloor(b)

	dir := b.TempDir()
	writeBridgeRaw(b, filepath.Join(dir, "bridge.raw"), 2*time.Second)
	uasPort := freePort(b, "udp")
	cfg := testConfig(b)
	cfg.RTP.PortMin = 30000
	cfg.RTP.PortMax = min(34998, 30000+4*calls+400)
	if (cfg.RTP.PortMax-cfg.RTP.PortMin)/2 < 2*calls {
		b.Fatalf("%d bridged calls do not fit the RTP range", calls)
	}
	cfg.API.Listen = ""
	cfg.SIP.TCP = nil
	cfg.Trunks = []config.Trunk{trunkTo("127.0.0.1:" + strconv.Itoa(uasPort))}
	sc := bridgeScript()
	sc.seen = make(chan *abi.Event) // nobody waits: do not buffer
	ts := startTestServer(b, cfg, []config.Application{webhookApp(b, "bridge", bridgeNumber, sc.handle)},
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))))

	// The callee: sipp UAS, for the whole benchmark.
	uasCtx, stopUAS := context.WithCancel(context.Background())
	defer stopUAS()
	sf := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", "sipp", name+".xml"))
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	uas := exec.CommandContext(uasCtx, sipp, "-sf", sf("uas_bridge_hold"),
		"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-t", "u1",
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(b, "udp")),
		"-rtp_threadtasks", "100", "-nostdin", "-nd")
	uas.Dir = dir
	var uasOut bytes.Buffer
	uas.Stdout, uas.Stderr = &uasOut, &uasOut
	if err := uas.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stopUAS()
		uas.Wait()
	}()
	time.Sleep(300 * time.Millisecond)

	// On a loaded machine the ramp runs late: every call lasts three ramps
	// plus the hold, so all N are still up together for the hold window.
	ramp := time.Duration(calls/rate+1) * time.Second
	callLen := 3*ramp + hold + 10*time.Second
	b.ResetTimer()
	uacDone := make(chan error, 1)
	var uacOut bytes.Buffer
	go func() {
		uac := exec.Command(sipp, ts.SIPAddr("udp").String(), "-sf", sf("uac_bridge_hold"), "-s", bridgeNumber,
			"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls),
			"-d", strconv.Itoa(int(callLen/time.Millisecond)),
			"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(b, "udp")), "-t", "u1",
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(b, "udp")),
			"-timeout", strconv.Itoa(int((callLen+ramp+60*time.Second)/time.Second))+"s", "-timeout_error",
			"-rtp_threadtasks", "100", "-nostdin", "-nd")
		uac.Dir = dir
		uac.Stdout, uac.Stderr = &uacOut, &uacOut
		uacDone <- uac.Run()
	}()
	deadline := time.Now().Add(3*ramp + 5*time.Second)
	for len(ts.Engine().Calls()) < calls && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // the last bridges settle
	start, rtp0 := sampleProc(b), sumRTP(ts)
	held := len(ts.Engine().Calls())
	for end := time.Now().Add(hold); time.Now().Before(end); {
		time.Sleep(500 * time.Millisecond)
		held = min(held, len(ts.Engine().Calls()))
	}
	stop, rtp1 := sampleProc(b), sumRTP(ts)
	b.StopTimer()
	uacErr := <-uacDone
	ts.waitIdle(b)
	// The floor: a bridged call moves the packets of two IVR calls (two
	// sockets, 50 packets a second each way on each), so the floor answers
	// twice as many sipp calls.
	fl := measureFloor(b, sipp, floorBin, "uac_hold", 2*calls, 100, hold)

	window := stop.at.Sub(start.at).Seconds()
	cpu := (stop.cpu - start.cpu).Seconds()
	cpuPerCall, perCore := math.NaN(), math.NaN()
	if held > 0 && cpu > 0 {
		cpuPerCall = cpu / window / float64(held) * 1000 // ms of CPU per second of bridged call
		perCore = float64(held) / (cpu / window)
	}
	rxPPS := float64(rtp1.rx-min(rtp1.rx, rtp0.rx)) / window
	txPPS := float64(rtp1.tx-min(rtp1.tx, rtp0.tx)) / window
	b.ReportMetric(float64(held), "bridged_calls")
	b.ReportMetric(cpuPerCall, "cpu_ms_per_call_s")
	b.ReportMetric(perCore, "bridged_calls_per_core")
	b.ReportMetric(cpuPerCall/(2*fl.cpuMsPerCallS), "x_floor")
	b.ReportMetric(rxPPS, "rtp_rx_pps")
	b.ReportMetric(txPPS, "rtp_tx_pps")
	benchTable(b, []string{"bridged wanted", "held", "hold s", "cpu s", "cpu ms/call/s", "calls/core", "rtp rx/s", "rtp tx/s", "foreign"},
		[][]string{{strconv.Itoa(calls), strconv.Itoa(held), fmt.Sprintf("%.1f", window), fmt.Sprintf("%.2f", cpu),
			fmt.Sprintf("%.3f", cpuPerCall), fmt.Sprintf("%.0f", perCore), fmt.Sprintf("%.0f", rxPPS), fmt.Sprintf("%.0f", txPPS),
			strconv.FormatUint(rtp1.foreign, 10)}})
	benchTable(b, []string{"floor (tests/bench/floor)", "sipp calls held", "hold s", "cpu ms per 2 calls/s", "rtp rx/s", "rtp tx/s", "failed", "server ÷ floor", "floor bridged calls/core"},
		[][]string{{"2 IVR calls per bridged call", strconv.Itoa(fl.held), fmt.Sprintf("%.1f", fl.window), fmt.Sprintf("%.3f", 2*fl.cpuMsPerCallS),
			fmt.Sprintf("%.0f", fl.rxPPS), fmt.Sprintf("%.0f", fl.txPPS), strconv.Itoa(fl.failed),
			fmt.Sprintf("%.2f", cpuPerCall/(2*fl.cpuMsPerCallS)), fmt.Sprintf("%.0f", 1000/(2*fl.cpuMsPerCallS))}})
	if uacErr != nil || held < calls {
		b.Logf("sipp uac: %v\n%s\nsipp uas:\n%s", uacErr, tail(uacOut.String(), 2000), tail(uasOut.String(), 2000))
	}
}
