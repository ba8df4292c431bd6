package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/kv"
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

// benchEvents are the meeting-join events of BenchmarkLatencyTable, built
// from the abi types so the envelope has the host's field order.
func benchEvents(b *testing.B) []struct {
	name, note, metric string
	event              []byte
	memKV              bool // the plugins' store in memory, as the webhook's
} {
	call := abi.CallDetails{
		TransactionID: "7f1c2a9e-5b0d-4c8e-9a51-3e6f2d4b8c01", TransactionAttributes: map[string]string{},
		AwsAccountID: "acme", AwsRegion: "local", SipRuleID: "rule-1", SipMediaApplicationID: "sma-1",
		Participants: []abi.Participant{{CallID: "call-a-5e1d", ParticipantTag: "LEG-A", To: "+15550100",
			From: "+15550199", Direction: "Inbound", StartTimeInMilliseconds: "1641998241509", Status: "Connected"}},
	}
	ev := func(typ abi.EventType, ad *abi.ActionData) []byte {
		out, err := json.Marshal(abi.Event{SchemaVersion: "1.0", Sequence: 3, InvocationEventType: typ, ActionData: ad, CallDetails: call})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	return []struct {
		name, note, metric string
		event              []byte
		memKV              bool
	}{
		{name: "CALL_UPDATE_REQUESTED", event: ev(abi.EventCallUpdateRequested, &abi.ActionData{Type: "CallUpdateRequest",
			Parameters: json.RawMessage(`{"Arguments":{"JoinToken":"ZjY0ZTk1YWItMDIxYS00NjkyLWJlYzMtZmZmNDk0ZGE2YWVj"}}`)})},
		{name: "HANGUP", event: ev(abi.EventHangup, &abi.ActionData{Type: "Hangup",
			Parameters: json.RawMessage(`{"SipResponseCode":"0","CallId":"call-a-5e1d","ParticipantTag":"LEG-A"}`)})},
		{name: "NEW_INBOUND_CALL", note: "kv_set in memory", metric: "_mem", event: ev(abi.EventNewInboundCall, nil), memKV: true},
		{name: "NEW_INBOUND_CALL", note: "durable kv_set", event: ev(abi.EventNewInboundCall, nil)},
	}
}

// memKV is a KVStore in a map, like the webhook sample's.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (s *memKV) Get(tenant, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[tenant+"/"+key]
	return v, ok, nil
}

func (s *memKV) Set(tenant, key string, val []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[tenant+"/"+key] = bytes.Clone(val)
	return nil
}

func (s *memKV) Delete(tenant, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[tenant+"/"+key]
	delete(s.m, tenant+"/"+key)
	return ok, nil
}

// benchKV opens the tenant store for the NEW_INBOUND_CALL rows: a real bbolt
// store (one write transaction per kv_set), on tmpfs when /dev/shm exists so
// the row measures the store rather than the disk's fsync.
// MEDIASERVER_BENCH_KV_DIR picks another directory.
func benchKV(b *testing.B) (*kv.Store, string) {
	dir := os.Getenv("MEDIASERVER_BENCH_KV_DIR")
	if dir == "" {
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			dir = "/dev/shm"
		} else {
			dir = b.TempDir()
		}
	}
	dir, err := os.MkdirTemp(dir, "mediaserver-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	store, err := kv.Open(filepath.Join(dir, "kv.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	return store, dir
}

// sameJSON reports whether two responses are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// BenchmarkLatencyTable measures p50/p99 of warm invocations of the C, Go,
// Rust and AssemblyScript meetingjoin plugins and of the webhook baseline (the native build of
// meetingjoin-go over loopback HTTP with keep-alive) on the same events, one
// invocation of each in turn so drift of a noisy machine hits all alike,
// and reports the ratios. The nop fixture is the host's own floor.
// NEW_INBOUND_CALL writes to the KV store (bbolt in the plugins, a map in
// the webhook) and is listed apart. It runs only with MEDIASERVER_BENCH=1
// and measures once whatever b.N is:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench BenchmarkLatencyTable -benchtime 1x -v ./host/plugin/
//
// MEDIASERVER_BENCH_N sets the invocations per handler and event (default 20000).
func BenchmarkLatencyTable(b *testing.B) {
	if os.Getenv("MEDIASERVER_BENCH") != "1" {
		b.Skip("set MEDIASERVER_BENCH=1 (make bench) to run the latency table")
	}
	n := 20000
	if s := os.Getenv("MEDIASERVER_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("MEDIASERVER_BENCH_N=%q", s)
		}
		n = v
	}
	store, kvDir := benchKV(b)
	cache := b.TempDir()
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "mediaserver-test", "wazero")
	}
	type handler struct {
		name, unit string
		h          Handler
	}
	url, what := webhookURL(b)
	wh := NewWebhook(url, time.Second, nil)
	b.Cleanup(func() { _ = wh.Close(context.Background()) })
	// handlers loads the nop fixture and the meeting-join plugins on a
	// runtime with the given store, and puts the webhook last.
	handlers := func(store KVStore) []handler {
		r := newRuntime(b, Config{CacheDir: cache, KV: store})
		hs := []handler{{name: "C nop fixture (host floor)", unit: "nop", h: benchLoad(b, r, "nop", fixture(b, "nop"))}}
		for _, name := range []string{"meetingjoin-c", "meetingjoin-go", "meetingjoin-rust", "meetingjoin-as"} {
			w, err := os.ReadFile(filepath.Join(examplesDir, name+".wasm"))
			if err != nil {
				b.Fatalf("%s not built (run plugins/build.sh): %v", name, err)
			}
			unit := strings.TrimPrefix(name, "meetingjoin-")
			label := map[string]string{"c": "C", "go": "Go", "rust": "Rust", "as": "AssemblyScript"}[unit]
			hs = append(hs, handler{name: label + " (" + name + ")", unit: unit, h: benchLoad(b, r, name, w)})
		}
		return append(hs, handler{name: "webhook (" + what + ")", unit: "webhook", h: wh})
	}
	durable := handlers(store)
	// The webhook sample keeps its store in memory; so do these plugins,
	// for the row that compares like with like.
	inMemory := handlers(newMemKV())
	hook := len(durable) - 1

	ctx := context.Background()
	var t strings.Builder
	fmt.Fprintf(&t, "\n%-32s %-34s %10s %10s %11s %14s %11s\n", "event", "handler", "p50", "p99", "webhook/p50",
		"p50 alternate", "webhook/p50")
	samples := make([][]time.Duration, len(durable))
	alt := make([][]time.Duration, len(durable))
	for i := range samples {
		samples[i] = make([]time.Duration, n)
		alt[i] = make([]time.Duration, n/4)
	}
	// Two orders. In runs, each handler serves block consecutive events in
	// turn, so machine noise still hits all alike but each runs with its
	// own code and data in cache, as a handler serving a stream of events
	// does. Alternating, the handlers take one event each in turn: every
	// plugin event follows a webhook round trip (two processes, the HTTP
	// stack), which evicts its code and data: a cold-cache figure.
	const block = 500
	for _, ev := range benchEvents(b) {
		hs := durable
		if ev.memKV {
			hs = inMemory
		}
		// Warm up instances, connections and caches; the plugins and the
		// webhook must agree, or the table compares different work.
		for i, h := range hs {
			var resp []byte
			for range 200 {
				res, err := h.h.Invoke(ctx, ev.event)
				if err != nil {
					b.Fatalf("%s %s: %v", h.name, ev.name, err)
				}
				resp = res.Response
			}
			if i > 0 && i != hook {
				res, err := hs[hook].h.Invoke(ctx, ev.event)
				if err != nil {
					b.Fatal(err)
				}
				if !sameJSON(resp, res.Response) {
					b.Fatalf("%s %s: %s, the webhook says %s", h.name, ev.name, resp, res.Response)
				}
			}
		}
		measure := func(h handler) time.Duration {
			start := time.Now()
			if _, err := h.h.Invoke(ctx, ev.event); err != nil {
				b.Fatalf("%s %s: %v", h.name, ev.name, err)
			}
			return time.Since(start)
		}
		for j := 0; j < n; j += block {
			for i, h := range hs {
				for k := j; k < min(j+block, n); k++ {
					samples[i][k] = measure(h)
				}
			}
		}
		for j := range alt[0] {
			for i, h := range hs {
				alt[i][j] = measure(h)
			}
		}
		p50 := make([]time.Duration, len(hs))
		p99 := make([]time.Duration, len(hs))
		a50 := make([]time.Duration, len(hs))
		for i := range hs {
			slices.Sort(samples[i])
			slices.Sort(alt[i])
			p50[i], p99[i] = samples[i][n/2], samples[i][n*99/100]
			a50[i] = alt[i][len(alt[i])/2]
		}
		name := ev.name
		if ev.note != "" {
			name += " (" + ev.note + ")"
		}
		for i, h := range hs {
			fmt.Fprintf(&t, "%-32s %-34s %10v %10v %10.1fx %14v %10.1fx\n", name, h.name, p50[i], p99[i],
				float64(p50[hook])/float64(p50[i]), a50[i], float64(a50[hook])/float64(a50[i]))
			if (ev.note == "" || ev.memKV) && i != hook {
				b.ReportMetric(float64(p50[i].Nanoseconds())/1e3, ev.name[:3]+ev.metric+"_"+h.unit+"_p50_µs")
				if i > 0 {
					b.ReportMetric(float64(p50[hook])/float64(p50[i]), ev.name[:3]+ev.metric+"_webhook/"+h.unit)
				}
			}
		}
	}
	fmt.Fprintf(&t, "(%d warm invocations per handler and event in runs of %d, then %d alternating; GOMAXPROCS=%d; NUMCPU=%d; KV in %s)",
		n, block, n/4, runtime.GOMAXPROCS(0), runtime.NumCPU(), kvDir)
	b.Log(t.String())
}
