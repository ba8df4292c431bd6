package server

// The iotcomms conference at scale: N callers (sipp, RTP both ways), each
// in a session of its own, wait in plugins/iot-meetme-go's silent IVR;
// the controller then builds the conference through the REST API
// (/createconferenceconnection once, then per caller a PUT /kv of the
// conference's id and a /splitconnection), and every caller joins it. The
// server's CPU is measured over a window with the callers waiting (the
// baseline: their media only) and over a window with all of them in the
// conference, per participant-second. Run it alone with
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkIotConference -benchtime 1x ./host/server/
//
// MEDIASERVER_BENCH_HOLD (default 10) is each window's length in seconds.

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
)

func BenchmarkIotConference(b *testing.B) {
	requireBench(b)
	sipp := requireTool(b, "sipp", "sip-tester")
	for _, n := range []int{10, 50} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchIotConference(b, sipp, n) })
	}
}

func benchIotConference(b *testing.B, sipp string, n int) {
	hold := time.Duration(benchEnvInt(b, "MEDIASERVER_BENCH_HOLD", 10)) * time.Second
	const number, rate = "+15550170", 20
	app := config.Application{ID: "meetme", Model: "iotcomms", Numbers: []string{number},
		Plugin: requireFile(b, filepath.Join(repoRoot, "plugins", "bin", "iot-meetme-go.wasm"), "run `make plugins`")}
	ts := startBenchServerAPI(b, n, []config.Application{app}, true)
	e := &iotEnv{ts: ts, app: app.ID, admin: ts.adminKey(b)}
	ramp := time.Duration(n/rate+1) * time.Second
	callLen := ramp + 2*hold + 20*time.Second
	dir := b.TempDir()
	writeRawPCMU(b, filepath.Join(dir, "load.raw"), 2*time.Second)
	res := make(chan error, 1)
	go func() {
		r, err := runSippLoad(b, sipp, ts, sippLoad{Dir: dir, Scenario: "uac_hold", Service: number, Rate: rate,
			Calls: n, Limit: n, CallLength: callLen, Timeout: callLen + ramp + 60*time.Second})
		if err == nil && r.Failed > 0 {
			err = fmt.Errorf("%d calls failed\n%s", r.Failed, r.Errors)
		}
		res <- err
	}()
	// Every caller waits, its waiting connection stored.
	var sessions []string
	deadline := time.Now().Add(ramp + 20*time.Second)
	for time.Now().Before(deadline) {
		sessions = sessions[:0]
		for _, c := range ts.Engine().Calls() {
			if e.kvGet(b, "iot/"+c.TransactionID+"/waiting/connectionId") != "" {
				sessions = append(sessions, c.TransactionID)
			}
		}
		if len(sessions) == n {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(sessions) != n {
		b.Fatalf("%d of %d callers waiting", len(sessions), n)
	}
	b.ResetTimer()
	w0 := sampleProc(b)
	time.Sleep(hold)
	w1 := sampleProc(b)

	// Build the conference through the API.
	built := time.Now()
	var conf api.ConnectionResponse
	e.api(b, "POST", "/createconferenceconnection", api.SessionRequest{SessionID: sessions[0]}, http.StatusOK, &conf)
	for _, sid := range sessions {
		put := ts.apiDo(b, "PUT", "/kv/iot/"+sid+"/conference", e.admin, []byte(conf.ConnectionID),
			api.TenantHeader, "demo", "Content-Type", "application/octet-stream")
		put.Body.Close()
		if put.StatusCode != http.StatusNoContent {
			b.Fatalf("PUT kv: %d", put.StatusCode)
		}
		conn := e.kvGet(b, "iot/"+sid+"/waiting/connectionId")
		reply := e.kvGet(b, "iot/"+sid+"/waiting/replyId")
		e.api(b, "POST", "/splitconnection", api.SplitConnectionRequest{ConnectionID: conn, ReplyID: reply}, http.StatusOK, nil)
	}
	buildTime := time.Since(built)
	time.Sleep(time.Second) // the last callEvents are answered, the members join
	w2 := sampleProc(b)
	time.Sleep(hold)
	w3 := sampleProc(b)
	b.StopTimer()
	if live := len(ts.Engine().Calls()); live != n {
		b.Fatalf("%d of %d sessions left in the conference window", live, n)
	}
	if err := <-res; err != nil {
		b.Fatal(err)
	}
	drainCalls(b, ts)

	perPS := func(from, to procSample) float64 {
		return (to.cpu - from.cpu).Seconds() / to.at.Sub(from.at).Seconds() / float64(n) * 1e6
	}
	waiting, inConf := perPS(w0, w1), perPS(w2, w3)
	b.ReportMetric(inConf, "µs_cpu/participant-s")
	b.ReportMetric(waiting, "waiting_µs_cpu/participant-s")
	b.ReportMetric(inConf/waiting, "x_waiting")
	b.ReportMetric(float64(buildTime.Milliseconds()), "build_ms")
	benchTable(b, []string{"callers", "waiting µs CPU/participant-s", "conference µs CPU/participant-s", "conference/waiting", "built in ms (API)"},
		[][]string{{strconv.Itoa(n), fmt.Sprintf("%.0f", waiting), fmt.Sprintf("%.0f", inConf), fmt.Sprintf("%.2f", inConf/waiting),
			strconv.FormatInt(buildTime.Milliseconds(), 10)}})
}
