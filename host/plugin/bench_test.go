package plugin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example plugins built by plugins/build.sh, used when present.
var examplesDir = filepath.Join("..", "..", "plugins", "bin")

func exampleWasm(b *testing.B, name string) []byte {
	wasm, err := os.ReadFile(filepath.Join(examplesDir, name+".wasm"))
	if err != nil {
		b.Skipf("%s not built (run plugins/build.sh): %v", name, err)
	}
	return wasm
}

func benchRuntime(b *testing.B) *Runtime {
	cache := b.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	return newRuntime(b, Config{CacheDir: cache})
}

func benchLoad(b *testing.B, r *Runtime, name string, wasm []byte) Handler {
	p, err := r.Load(context.Background(), "bench", name, wasm, &Limits{Deadline: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// webhookHandler has the logic of the meetingjoin example: PlayAudio on
// NEW_INBOUND_CALL, JoinChimeMeeting on CALL_UPDATE_REQUESTED, else nothing.
func webhookHandler(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		InvocationEventType string
		ActionData          struct {
			Parameters struct{ Arguments map[string]string }
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type m = map[string]any
	resp := m{"SchemaVersion": "1.0", "Actions": []m{}}
	switch ev.InvocationEventType {
	case "NEW_INBOUND_CALL":
		resp["Actions"] = []m{{"Type": "PlayAudio", "Parameters": m{"ParticipantTag": "LEG-A",
			"AudioSource": m{"Type": "S3", "BucketName": "chime-meetings-audio-files-bucket-name", "Key": "welcome.wav"}}}}
	case "CALL_UPDATE_REQUESTED":
		resp["Actions"] = []m{{"Type": "JoinChimeMeeting", "Parameters": m{"JoinToken": ev.ActionData.Parameters.Arguments["JoinToken"]}}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// webhookURL starts plugins/bin/meetingjoin-go-webhook, or an httptest
// server with the same logic when it is not built. It names which.
func webhookURL(b *testing.B) (url, what string) {
	bin := filepath.Join(examplesDir, "meetingjoin-go-webhook")
	if _, err := os.Stat(bin); err == nil {
		cmd := exec.Command(bin, "-listen", "127.0.0.1:0")
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			b.Fatalf("%s: %v", bin, err)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			b.Fatalf("%s said %q", bin, line)
		}
		return url, "meetingjoin-go-webhook"
	}
	srv := httptest.NewServer(http.HandlerFunc(webhookHandler))
	b.Cleanup(srv.Close)
	return srv.URL, "httptest"
}

// BenchmarkInvoke measures one warm event per handler kind.
//
//	go test -run '^$' -bench BenchmarkInvoke -benchmem ./host/plugin/
func BenchmarkInvoke(b *testing.B) {
	event := testEvent(1)
	run := func(b *testing.B, h Handler) {
		ctx := context.Background()
		if _, err := h.Invoke(ctx, event); err != nil { // warm up
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Invoke(ctx, event); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("c-nop-fixture", func(b *testing.B) { // the host's own cost
		r := benchRuntime(b)
		run(b, benchLoad(b, r, "nop", fixture(b, "nop")))
	})
	b.Run("c-good-fixture", func(b *testing.B) {
		r := benchRuntime(b)
		run(b, benchLoad(b, r, "good", fixture(b, "good")))
	})
	for _, name := range []string{"meetingjoin-c", "meetingjoin-go"} {
		b.Run(name, func(b *testing.B) {
			wasm := exampleWasm(b, name)
			r := benchRuntime(b)
			run(b, benchLoad(b, r, name, wasm))
		})
	}
	b.Run("webhook", func(b *testing.B) {
		url, _ := webhookURL(b)
		h := NewWebhook(url, time.Second, nil)
		b.Cleanup(func() { _ = h.Close(context.Background()) })
		run(b, h)
	})
}

// BenchmarkLatencyTable measures p50/p99 of warm invocations of the C and Go
// meetingjoin plugins and of the webhook baseline side by side, and reports
// the ratios. It measures once whatever b.N is:
//
//	go test -run '^$' -bench BenchmarkLatencyTable -benchtime 1x -v ./host/plugin/
//
// MEDIASERVER_BENCH_N sets the invocations per handler (default 20000).
func BenchmarkLatencyTable(b *testing.B) {
	n := 20000
	if s := os.Getenv("MEDIASERVER_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("MEDIASERVER_BENCH_N=%q", s)
		}
		n = v
	}
	r := benchRuntime(b)
	type row struct {
		name     string
		unit     string
		h        Handler
		p50, p99 time.Duration
	}
	// The nop fixture answers without parsing: the host's own cost.
	rows := []*row{{name: "C nop fixture (host overhead)", unit: "nop", h: benchLoad(b, r, "nop", fixture(b, "nop"))}}
	cName, cWasm := "meetingjoin-c", []byte(nil)
	if w, err := os.ReadFile(filepath.Join(examplesDir, "meetingjoin-c.wasm")); err == nil {
		cWasm = w
	} else {
		cName, cWasm = "c-good-fixture", fixture(b, "good")
	}
	rows = append(rows, &row{name: "C (" + cName + ")", unit: "c", h: benchLoad(b, r, cName, cWasm)})
	if w, err := os.ReadFile(filepath.Join(examplesDir, "meetingjoin-go.wasm")); err == nil {
		rows = append(rows, &row{name: "Go (meetingjoin-go)", unit: "go", h: benchLoad(b, r, "meetingjoin-go", w)})
	}
	url, what := webhookURL(b)
	wh := NewWebhook(url, time.Second, nil)
	b.Cleanup(func() { _ = wh.Close(context.Background()) })
	rows = append(rows, &row{name: "webhook (" + what + ")", unit: "webhook", h: wh})

	event := testEvent(1)
	ctx := context.Background()
	samples := make([]time.Duration, n)
	for _, rw := range rows {
		for range 200 { // warm up instances, connections and caches
			if _, err := rw.h.Invoke(ctx, event); err != nil {
				b.Fatalf("%s: %v", rw.name, err)
			}
		}
		for i := range samples {
			start := time.Now()
			if _, err := rw.h.Invoke(ctx, event); err != nil {
				b.Fatalf("%s: %v", rw.name, err)
			}
			samples[i] = time.Since(start)
		}
		slices.Sort(samples)
		rw.p50, rw.p99 = samples[n/2], samples[n*99/100]
	}
	hook := rows[len(rows)-1]
	var t strings.Builder
	fmt.Fprintf(&t, "\n%-32s %12s %12s %18s\n", "handler", "p50", "p99", "webhook p50 / p50")
	for _, rw := range rows {
		ratio := float64(hook.p50) / float64(rw.p50)
		fmt.Fprintf(&t, "%-32s %12v %12v %17.1fx\n", rw.name, rw.p50, rw.p99, ratio)
	}
	fmt.Fprintf(&t, "(%d warm invocations each, GOMAXPROCS=%d)", n, runtime.GOMAXPROCS(0))
	b.Log(t.String())
	for _, rw := range rows {
		b.ReportMetric(float64(rw.p50.Nanoseconds())/1e3, rw.unit+"_p50_µs")
		b.ReportMetric(float64(rw.p99.Nanoseconds())/1e3, rw.unit+"_p99_µs")
		if rw != hook {
			b.ReportMetric(float64(hook.p50)/float64(rw.p50), "webhook/"+rw.unit+"_p50")
		}
	}
}
