package server

// Multi-tenancy end to end: routing through the registry, API keys,
// upload-to-live through the control API, module checks with the tenant's
// quotas, call quotas (486 / 503), metrics. Helpers shared by the other
// tenancy tests (hotswap, noisy neighbour, restart, S3) live here too.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/abi"
	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenancy"
	"github.com/wasmvoice/mediaserver/host/tenant"
	"github.com/wasmvoice/mediaserver/internal/ratelimit"
)

// Fixtures.
var (
	meetingC    = filepath.Join(repoRoot, "plugins", "bin", "meetingjoin-c.wasm")
	hostileBins = filepath.Join(repoRoot, "host", "plugin", "testdata", "bin")
)

// adminKey returns the admin secret the server wrote to its data dir.
func (ts *testServer) adminKey(t testing.TB) string {
	t.Helper()
	admin, _ := ts.KeyFiles()
	sec, err := readKey(admin)
	if err != nil {
		t.Fatalf("admin key: %v", err)
	}
	return sec
}

// readKey returns the secret stored in a key file.
func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// metric returns the value of one series of GET /metrics (read with the
// admin key), given as the exposition format writes it: name{labels}. A
// series that is missing fails the test.
func (ts *testServer) metric(t testing.TB, series string) float64 {
	t.Helper()
	res := ts.apiDo(t, "GET", "/metrics", ts.adminKey(t), nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("metrics lack %s:\n%s", series, b)
	return 0
}

// apiDo sends one request to the control API with key (may be "") and
// returns the response; the caller closes the body.
func (ts *testServer) apiDo(t testing.TB, method, path, key string, body []byte, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+ts.APIAddr()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// apiJSON sends a request, checks the status and decodes the answer into
// out (when not nil).
func (ts *testServer) apiJSON(t testing.TB, method, path, key string, body any, want int, out any, hdr ...string) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	res := ts.apiDo(t, method, path, key, b, hdr...)
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, res.StatusCode, got, want)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, got)
		}
	}
}

// uploadPlugin POSTs a module and returns the API's answer.
func (ts *testServer) uploadPlugin(t testing.TB, key string, wasm []byte, want int) api.PluginResponse {
	t.Helper()
	var out api.PluginResponse
	ts.apiJSON(t, "POST", "/plugins", key, wasm, want, &out, "Content-Type", "application/wasm")
	return out
}

// newTenant makes a tenant through the admin API with one application on
// number and returns the tenant's key.
func (ts *testServer) newTenant(t testing.TB, id string, q api.Quotas, app, number string) string {
	t.Helper()
	admin := ts.adminKey(t)
	ts.apiJSON(t, "POST", "/tenants", admin, api.CreateTenantRequest{TenantID: id, Name: id, Quotas: q}, http.StatusCreated, nil)
	var k api.CreateKeyResponse
	ts.apiJSON(t, "POST", "/tenants/"+id+"/keys", admin, api.CreateKeyRequest{Name: "test"}, http.StatusCreated, &k)
	ts.apiJSON(t, "POST", "/sip-media-applications", k.Secret, api.CreateAppRequest{SipMediaApplicationID: app, Name: app}, http.StatusCreated, nil)
	ts.apiJSON(t, "POST", "/phone-numbers", k.Secret, api.AddNumberRequest{E164PhoneNumber: number}, http.StatusCreated, nil)
	ts.apiJSON(t, "PUT", "/phone-numbers/"+number+"/rule", k.Secret, api.SetRuleRequest{SipMediaApplicationID: app}, http.StatusOK, nil)
	return k.Secret
}

// putObject uploads a bucket object through the API.
func (ts *testServer) putObject(t testing.TB, key, bucket, object string, data []byte) {
	t.Helper()
	res := ts.apiDo(t, "PUT", "/buckets/"+bucket+"/objects/"+object, key, data, "Content-Type", "application/octet-stream")
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("PUT object %s/%s = %d %s", bucket, object, res.StatusCode, b)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withCustomSection returns wasm with a custom section appended: the same
// program under another SHA-256, i.e. a new version that behaves alike.
func withCustomSection(wasm []byte, name string) []byte {
	payload := append([]byte{byte(len(name))}, name...)
	payload = append(payload, "v"...) // wazero wants content after the name
	out := append([]byte(nil), wasm...)
	out = append(out, 0, byte(len(payload)))
	return append(out, payload...)
}

// TestUploadToLive: a tenant made through the admin API uploads a C
// plugin, assigns it, and the next call to its number runs it; the
// plugin's log book and stats see the call; other tenants' keys see
// nothing of it; the demo key and admin key files exist with mode 0600.
func TestUploadToLive(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	wasm := readFile(t, requireFile(t, meetingC, "run `make plugins`"))
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	for _, f := range []string{tenancy.AdminKeyFile, tenancy.DemoKeyFile} {
		st, err := os.Stat(filepath.Join(ts.Config.DataDir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v, mode %v; want 0600", f, err, st)
		}
	}
	key := ts.newTenant(t, "acme", api.Quotas{}, "meet", "+15550131")
	// Not assigned yet: the application has neither plugin nor webhook.
	runSipp(t, ts, sippOptions{Scenario: "uac_404", Service: "+15550131"})

	up := ts.uploadPlugin(t, key, wasm, http.StatusCreated)
	if up.Plugin.Info == nil || up.Plugin.Info.Mode != "reactor" {
		t.Fatalf("upload answer %+v: want reactor info", up.Plugin)
	}
	ts.apiJSON(t, "PUT", "/sip-media-applications/meet/plugin", key, api.AssignPluginRequest{Sha256: up.Plugin.Sha256}, http.StatusOK, nil)
	runSipp(t, ts, sippOptions{Scenario: "uac_bye", Service: "+15550131"})
	ts.waitIdle(t)

	var calls []Invocation
	for _, inv := range ts.obs.snapshot() {
		if inv.Tenant == "acme" {
			calls = append(calls, inv)
		}
	}
	if len(calls) == 0 || calls[0].Plugin != up.Plugin.Sha256 {
		t.Fatalf("acme invocations %d (first on %q), want some on the uploaded version %s", len(calls), firstPlugin(calls), up.Plugin.Sha256)
	}
	var st api.StatsResponse
	ts.apiJSON(t, "GET", "/sip-media-applications/meet/stats", key, nil, http.StatusOK, &st)
	if st.Stats.Invocations != uint64(len(calls)) {
		t.Fatalf("stats: %d invocations, the observer saw %d", st.Stats.Invocations, len(calls))
	}
	// The welcome prompt is not in acme's bucket: PlayAudio failed, and
	// the plugin logged nothing, so the log book is empty or holds only
	// plugin lines, never another tenant's.
	var logs api.LogList
	ts.apiJSON(t, "GET", "/sip-media-applications/meet/logs", key, nil, http.StatusOK, &logs)
	for _, l := range logs.Logs {
		if l.TransactionID != "" && l.TransactionID != txID(t, calls[0]) {
			t.Fatalf("log line of another call: %+v", l)
		}
	}
	// The demo tenant's key sees neither acme's application nor its plugin.
	_, demoFile := ts.KeyFiles()
	demoKey, err := readKey(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	ts.apiJSON(t, "GET", "/sip-media-applications/meet", demoKey, nil, http.StatusNotFound, nil)
	var pl api.PluginList
	ts.apiJSON(t, "GET", "/plugins", demoKey, nil, http.StatusOK, &pl)
	for _, p := range pl.Plugins {
		if p.Sha256 == up.Plugin.Sha256 {
			t.Fatal("the demo tenant lists acme's plugin")
		}
	}
}

func firstPlugin(invs []Invocation) string {
	if len(invs) == 0 {
		return ""
	}
	return invs[0].Plugin
}

func txID(t testing.TB, inv Invocation) string {
	t.Helper()
	ev, err := abi.ParseEvent(inv.Event)
	if err != nil {
		t.Fatal(err)
	}
	return ev.CallDetails.TransactionID
}

func (o *observer) snapshot() []Invocation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Invocation(nil), o.invs...)
}

// TestUploadRejected: invalid, oversized (over the tenant's module quota)
// and hostile modules are refused through the API with the reason, and
// nothing is stored.
func TestUploadRejected(t *testing.T) {
	t.Parallel()
	good := readFile(t, requireFile(t, filepath.Join(hostileBins, "good.wasm"), "run host/plugin/testdata/build.sh"))
	unknown := readFile(t, requireFile(t, filepath.Join(hostileBins, "unknownimport.wasm"), "run host/plugin/testdata/build.sh"))
	ts := startTestServer(t, nil, nil)
	key := ts.newTenant(t, "small", api.Quotas{MaxModuleBytes: 4096}, "app", "+15550141")
	tests := []struct {
		name       string
		wasm       []byte
		wantStatus int
		wantCode   string
		wantText   string
	}{
		{"not wasm", []byte("\x00asm but not really a module"), http.StatusBadRequest, api.CodeBadRequest, "invalid module"},
		{"oversized", good, http.StatusRequestEntityTooLarge, api.CodeResourceLimitExceeded, "over the limit of 4096 bytes"},
		{"unknown import", unknown, http.StatusBadRequest, api.CodeBadRequest, `invalid module: import "mediaserver"."spawn_process": no such function`},
		{"empty", []byte{}, http.StatusBadRequest, api.CodeBadRequest, "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e api.ErrorResponse
			ts.apiJSON(t, "POST", "/plugins", key, tt.wasm, tt.wantStatus, &e, "Content-Type", "application/wasm")
			if e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantText) {
				t.Fatalf("answer %+v, want code %s and a message with %q", e, tt.wantCode, tt.wantText)
			}
		})
	}
	var pl api.PluginList
	ts.apiJSON(t, "GET", "/plugins", key, nil, http.StatusOK, &pl)
	if len(pl.Plugins) != 0 {
		t.Fatalf("rejected uploads were stored: %+v", pl.Plugins)
	}
}

// TestCallQuotas: over the concurrent-call quota a call gets 486 Busy
// Here, over the call rate 503; both are logged; another tenant is not
// affected.
// TestCallQuotas: a tenant over its concurrent-call quota gets 486, over its
// call rate 503, and another tenant is not affected. The quota comes from
// the tenant itself (API) or from the config's [quotas] defaults, which a
// tenant's own quota overrides.
func TestCallQuotas(t *testing.T) {
	for _, viaConfig := range []bool{false, true} {
		name := "tenant quota"
		if viaConfig {
			name = "config default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testCallQuotas(t, viaConfig)
		})
	}
}

func testCallQuotas(t *testing.T, viaConfig bool) {
	requireTool(t, "sipp", "sip-tester")
	hold := webhookApp(t, "hold", "+15550151", func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":30000}}`)
		}
		return actions()
	})
	other := webhookApp(t, "other", "+15550152", func(ev *abi.Event) string {
		if ev.InvocationEventType == abi.EventNewInboundCall {
			return actions(`{"Type":"Pause","Parameters":{"DurationInMilliseconds":30000}}`)
		}
		return actions()
	})
	cfg := testConfig(t)
	cfg.Tenants = []config.Tenant{{ID: "limited", Applications: []config.Application{hold}}, {ID: "free", Applications: []config.Application{other}}}
	frozen := time.Unix(1_700_000_000, 0)
	limits := tenant.Quotas{MaxConcurrentCalls: 1, MaxCallsPerSecond: 1}
	if viaConfig {
		cfg.Quotas = config.Quotas{MaxConcurrentCalls: 1, MaxCallsPerSecond: 1}
	}
	ts := startTestServer(t, cfg, nil, func(o *options) { o.ten.Now = func() time.Time { return frozen } })
	if viaConfig {
		// The free tenant's own quota overrides the config's default.
		limits = tenant.Quotas{MaxConcurrentCalls: 100, MaxCallsPerSecond: 100}
		if _, err := ts.Registry().UpdateTenant("free", "free", limits); err != nil {
			t.Fatal(err)
		}
	} else if _, err := ts.Registry().UpdateTenant("limited", "limited", limits); err != nil {
		t.Fatal(err)
	}

	// One call held (the caller hangs up after 1.5 s) ...
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runSipp(t, ts, sippOptions{Scenario: "uac_bye", Service: "+15550151"}) }()
	go func() { defer wg.Done(); runSipp(t, ts, sippOptions{Scenario: "uac_bye", Service: "+15550152"}) }()
	waitFor(t, "two calls up", func() bool { return len(ts.Engine().Calls()) == 2 })
	// ... a second one to the limited tenant is busy (the concurrency
	// check comes first, so it takes no token of the rate bucket).
	runSipp(t, ts, sippOptions{Scenario: "uac_486", Service: "+15550151"})
	wg.Wait()
	ts.waitIdle(t)
	// The bucket (1 per second, frozen clock) is empty now: 503.
	runSipp(t, ts, sippOptions{Scenario: "uac_503_retry", Service: "+15550151"})
	logs := ts.Logs.String()
	for _, want := range []string{"call rejected: concurrent-call quota reached", "call rejected: call-rate quota reached"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("log lacks %q", want)
		}
	}
	// The other tenant still takes calls.
	runSipp(t, ts, sippOptions{Scenario: "uac_bye", Service: "+15550152"})
	ts.waitIdle(t)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestMetrics: /metrics needs the admin key and reports calls, events,
// latency and RTP after a call.
func TestMetrics(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	runSipp(t, ts, sippOptions{Scenario: "uac_bye"})
	runSipp(t, ts, sippOptions{Scenario: "uac_404", Service: "+15559999"})
	ts.waitIdle(t)
	res := ts.apiDo(t, "GET", "/metrics", "", nil)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without a key = %d, want 401", res.StatusCode)
	}
	res = ts.apiDo(t, "GET", "/metrics", ts.adminKey(t), nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	text := string(b)
	for _, want := range []string{
		`mediaserver_calls_total{direction="inbound",result="accepted",tenant="demo"} 1`,
		`mediaserver_calls_total{direction="inbound",result="not_found",tenant="none"} 1`,
		`mediaserver_events_total{tenant="demo",type="NEW_INBOUND_CALL"} 1`,
		`mediaserver_events_total{tenant="demo",type="HANGUP"} 1`,
		`mediaserver_plugin_invocation_seconds_count{tenant="demo"}`,
		`mediaserver_rtp_packets_total{direction="out"}`,
		`mediaserver_plugin_versions_loaded 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(100, 0)
	tests := []struct {
		name     string
		rate     float64
		takes    []time.Duration // offsets from t0
		want     []bool
		wantWait time.Duration // of the last take
	}{
		{"burst of rate", 3, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}, 333333333},
		{"refills", 2, []time.Duration{0, 0, 0, 500 * time.Millisecond}, []bool{true, true, false, true}, 0},
		{"rate below one", 0.5, []time.Duration{0, 0, 2 * time.Second}, []bool{true, false, true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b ratelimit.Bucket
			var wait time.Duration
			for i, off := range tt.takes {
				var ok bool
				ok, wait = b.Take(tt.rate, tt.rate, t0.Add(off))
				if ok != tt.want[i] {
					t.Fatalf("take %d at +%v = %v, want %v", i, off, ok, tt.want[i])
				}
			}
			if wait != tt.wantWait {
				t.Fatalf("last wait = %v, want %v", wait, tt.wantWait)
			}
		})
	}
}

// TestStorageQuota: over the tenant's storage quota an upload through the
// API is refused with ResourceLimitExceeded, and a RecordAudio fails.
func TestStorageQuota(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	rec := webhookApp(t, "rec", "+15550191", func(ev *abi.Event) string {
		switch ev.InvocationEventType {
		case abi.EventNewInboundCall:
			return actions(`{"Type":"RecordAudio","Parameters":{"DurationInSeconds":2,"RecordingTerminators":["#"],` +
				`"RecordingDestination":{"Type":"S3","BucketName":"recordings"}}}`)
		case abi.EventActionSuccessful, abi.EventActionFailed:
			return actions(`{"Type":"Hangup","Parameters":{"SipResponseCode":"0"}}`)
		}
		return actions()
	})
	cfg := testConfig(t)
	cfg.Tenants = []config.Tenant{{ID: "tiny", Applications: []config.Application{rec}}}
	ts := startTestServer(t, cfg, nil)
	if _, err := ts.Registry().UpdateTenant("tiny", "tiny", tenant.Quotas{MaxStorageBytes: 1000}); err != nil {
		t.Fatal(err)
	}
	var k api.CreateKeyResponse
	ts.apiJSON(t, "POST", "/tenants/tiny/keys", ts.adminKey(t), api.CreateKeyRequest{Name: "t"}, http.StatusCreated, &k)
	ts.putObject(t, k.Secret, "prompts", "a.bin", make([]byte, 1000))
	var e api.ErrorResponse
	ts.apiJSON(t, "PUT", "/buckets/prompts/objects/b.bin", k.Secret, []byte("x"), http.StatusBadRequest, &e, "Content-Type", "application/octet-stream")
	if e.Code != api.CodeResourceLimitExceeded || !strings.Contains(e.Message, "storage quota exceeded") {
		t.Fatalf("over-quota upload answered %+v", e)
	}
	runSipp(t, ts, sippOptions{Scenario: "uac_wait_bye", Service: "+15550191"})
	ts.waitIdle(t)
	var failed *abi.Event
	for _, o := range ts.Invocations(t) {
		if o.Event.InvocationEventType == abi.EventActionFailed {
			failed = o.Event
		}
	}
	if failed == nil {
		t.Fatalf("events %s: want RecordAudio to fail over the storage quota", eventTypes(ts.Invocations(t)))
	}
}

// TestDevReload: with WithDevReload, rewriting an application's plugin
// file makes the new module the application's current version.
func TestDevReload(t *testing.T) {
	t.Parallel()
	wasm := readFile(t, requireFile(t, meetingC, "run `make plugins`"))
	file := filepath.Join(t.TempDir(), "app.wasm")
	if err := os.WriteFile(file, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Tenants = []config.Tenant{{ID: "dev", Applications: []config.Application{{ID: "app", Plugin: file, Numbers: []string{"+15550193"}}}}}
	ts := startTestServer(t, cfg, nil, WithDevReload(10*time.Millisecond))
	before, err := ts.Registry().GetApp("dev", "app")
	if err != nil {
		t.Fatal(err)
	}
	next := withCustomSection(wasm, "dev-reload")
	if err := os.WriteFile(file, next, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rebuilt plugin to be assigned", func() bool {
		a, err := ts.Registry().GetApp("dev", "app")
		return err == nil && a.Plugin != before.Plugin
	})
	a, _ := ts.Registry().GetApp("dev", "app")
	if len(a.History) != 1 || a.History[0] != before.Plugin {
		t.Fatalf("history %v, want the previous version %s", a.History, before.Plugin)
	}
	// The line follows the assignment.
	waitFor(t, "the reload to be logged", func() bool { return strings.Contains(ts.Logs.String(), "dev mode: plugin reloaded") })
}

// An assignment made while the registry watcher is refreshing (after it
// read the registry) is not missed: its version is loaded without waiting
// for another change or a call.
func TestWatcherSeesChangeDuringRefresh(t *testing.T) {
	t.Parallel()
	reactor := readFile(t, requireFile(t, meetingC, "run `make plugins`"))
	command := readFile(t, requireFile(t, filepath.Join(filepath.Dir(meetingC), "meetingjoin-c-cmd.wasm"), "run `make plugins`"))
	ts := startTestServer(t, nil, nil)
	key := ts.newTenant(t, "acme", api.Quotas{}, "first", "+15550131")
	ts.apiJSON(t, "POST", "/sip-media-applications", key, api.CreateAppRequest{SipMediaApplicationID: "second"}, http.StatusCreated, nil)
	v1 := ts.uploadPlugin(t, key, reactor, http.StatusCreated).Plugin.Sha256
	v2 := ts.uploadPlugin(t, key, command, http.StatusCreated).Plugin.Sha256
	var once sync.Once
	ts.ten.SetAfterRead(func() {
		once.Do(func() {
			if err := ts.Registry().AssignPlugin("acme", "second", v2); err != nil {
				t.Errorf("assign during refresh: %v", err)
			}
		})
	})
	ts.apiJSON(t, "PUT", "/sip-media-applications/first/plugin", key, api.AssignPluginRequest{Sha256: v1}, http.StatusOK, nil)
	for deadline := time.Now().Add(20 * time.Second); !ts.shaLoaded(v2); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the version assigned during a refresh was never loaded (v1 loaded: %v)", ts.shaLoaded(v1))
		}
	}
}

// shaLoaded reports whether a version with this SHA-256 is loaded.
func (s *Server) shaLoaded(sha string) bool {
	for _, v := range s.ten.Versions() {
		if v.SHA == sha && v.Loaded {
			return true
		}
	}
	return false
}
