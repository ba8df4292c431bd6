package server

// Benchmarks of the multi-tenant side. They skip unless MEDIASERVER_BENCH=1:
//
//	MEDIASERVER_BENCH=1 go test -run '^$' -bench 'BenchmarkNoisyNeighbour|BenchmarkUploadToLive|BenchmarkRestartWarmCache' -benchtime 1x ./host/server/

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenancy"
)

// benchEvent is a NEW_INBOUND_CALL as the engine sends it, for invoking a
// handler without SIP.
func benchEvent(seq int) []byte {
	return []byte(`{"SchemaVersion":"1.0","Sequence":` + strconv.Itoa(seq) + `,"InvocationEventType":"NEW_INBOUND_CALL",` +
		`"CallDetails":{"TransactionId":"bench-` + strconv.Itoa(seq) + `","TransactionAttributes":{},"AwsAccountId":"demo","AwsRegion":"local",` +
		`"SipMediaApplicationId":"demo-ivr","Participants":[{"CallId":"c-` + strconv.Itoa(seq) + `","ParticipantTag":"LEG-A",` +
		`"To":"+15550100","From":"+12065550123","Direction":"Inbound","StartTimeInMilliseconds":"1700000000000","Status":"Connected"}]}}`)
}

// invokerFor returns the per-call invoker of a tenant's application, as a
// call admitted now would get it, and its release.
func invokerFor(b *testing.B, ts *testServer, tenantID, app string) (func(context.Context, []byte) ([]byte, error), func()) {
	b.Helper()
	a, err := ts.Registry().GetApp(tenantID, app)
	if err != nil {
		b.Fatal(err)
	}
	q, _ := ts.Registry().Quotas(tenantID)
	v, err := ts.ten.Hold(context.Background(), tenantID, a.Plugin, q)
	if err != nil {
		b.Fatal(err)
	}
	inv := ts.ten.Invoker(&tenancy.Admission{Tenant: tenantID, App: app, SHA: a.Plugin, Handler: v.Handler()})
	return inv.Invoke, v.Release
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)*50/100], d[min(len(d)-1, len(d)*99/100)]
}

// BenchmarkNoisyNeighbour measures the demo IVR's event latency (the
// invoker the engine calls: the tenant's CPU share, then the plugin)
// alone, then while 4 goroutines keep the noisy tenant's spinning plugin
// busy, side by side in one run. Target: p99 beside the noisy tenant
// within 2x of alone.
func BenchmarkNoisyNeighbour(b *testing.B) {
	requireBench(b)
	ts := startNoisyServer(b)
	demo, releaseDemo := invokerFor(b, ts, "demo", "demo-ivr")
	defer releaseDemo()
	noisy, releaseNoisy := invokerFor(b, ts, "noisy", "spin")
	defer releaseNoisy()
	const events = 5000
	measure := func() []time.Duration {
		out := make([]time.Duration, 0, events)
		for i := range events {
			start := time.Now()
			if _, err := demo(context.Background(), benchEvent(i)); err != nil {
				b.Fatal(err)
			}
			out = append(out, time.Since(start))
		}
		return out
	}
	for range b.N {
		measure() // warm
		alone := measure()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					_, _ = noisy(ctx, benchEvent(i)) // times out at its deadline, by design
				}
			}()
		}
		time.Sleep(time.Second) // past the noisy tenant's burst: its steady state
		beside := measure()
		cancel()
		wg.Wait()
		a50, a99 := percentiles(alone)
		n50, n99 := percentiles(beside)
		b.ReportMetric(float64(a50.Microseconds()), "alone_p50_us")
		b.ReportMetric(float64(a99.Microseconds()), "alone_p99_us")
		b.ReportMetric(float64(n50.Microseconds()), "beside_p50_us")
		b.ReportMetric(float64(n99.Microseconds()), "beside_p99_us")
		b.ReportMetric(float64(n99)/float64(a99), "p99_ratio")
		benchTable(b, []string{"demo IVR event", "p50", "p99"}, [][]string{
			{"alone", a50.String(), a99.String()},
			{"beside noisy tenant", n50.String(), n99.String()},
		})
	}
}

// BenchmarkUploadToLive measures, for a C and a Go plugin, the time from
// POST /plugins (check and compile) through PUT …/plugin (assign) until
// the new version is loaded and serves the next call. Each iteration
// uploads a fresh version (a new custom section), so it is compiled
// cold. Targets: C ≤ 100 ms, Go ≤ 3 s.
func BenchmarkUploadToLive(b *testing.B) {
	requireBench(b)
	for _, tc := range []struct{ name, file string }{
		{"C", meetingC},
		{"Go", filepath.Join(repoRoot, "plugins", "bin", "ivr-go.wasm")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			wasm := readFile(b, requireFile(b, tc.file, "run `make plugins`"))
			cfg := testConfig(b)
			cfg.Plugins.Deadline = config.Duration{Duration: 50 * time.Millisecond}
			// A cache of its own, so every version is compiled cold.
			ts := startTestServer(b, cfg, nil, WithCacheDir(b.TempDir()))
			key := ts.newTenant(b, "bench", api.Quotas{}, "app", "+15550181")
			var total time.Duration
			b.ResetTimer()
			for i := range b.N {
				v := withCustomSection(wasm, fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
				start := time.Now()
				sha := ts.uploadPlugin(b, key, v, http.StatusCreated).Plugin.Sha256
				ts.apiJSON(b, "PUT", "/sip-media-applications/app/plugin", key, api.AssignPluginRequest{Sha256: sha}, http.StatusOK, nil)
				for !ts.versionReady("bench", sha) {
					time.Sleep(time.Millisecond)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms_to_live")
		})
	}
}

// versionReady reports whether a version of tenant with sha is loaded.
func (ts *testServer) versionReady(tenantID, sha string) bool {
	for _, v := range ts.ten.Versions() {
		if v.Tenant == tenantID && v.SHA == sha && v.Loaded {
			return true
		}
	}
	return false
}

// BenchmarkRestartWarmCache measures New and Start of a server with the
// demo IVR (a Go plugin) on a data directory whose compilation cache is
// warm: the restart after a deploy or a crash. Target ≤ 1 s.
func BenchmarkRestartWarmCache(b *testing.B) {
	requireBench(b)
	data := b.TempDir()
	apps := []config.Application{demoApp(b, config.DemoNumber)}
	first := testConfig(b)
	first.DataDir = data
	ts := startTestServer(b, first, apps, WithCacheDir(filepath.Join(data, "cache")))
	if err := ts.Close(); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		cfg := testConfig(b)
		cfg.DataDir = data
		cfg.Tenants = []config.Tenant{{ID: "demo", Applications: apps}}
		s, err := New(cfg, WithCacheDir(filepath.Join(data, "cache")))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := s.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if !s.versionLoaded("demo") {
			b.Fatal("the demo version is not loaded after Start")
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms_start")
}

// versionLoaded reports whether any version of the tenant is loaded.
func (s *Server) versionLoaded(tenantID string) bool {
	for _, v := range s.ten.Versions() {
		if v.Tenant == tenantID {
			return true
		}
	}
	return false
}
