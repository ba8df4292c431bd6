package server

// The operator's view: /readyz through a drain, every metric documented
// in docs/operations.md, /readyz and /metrics in the OpenAPI document.

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
)

func httpGet(t testing.TB, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestReadiness: ready once started; a drain makes it unready at once
// while /healthz stays ok; new API calls are refused with 503 while the
// existing call goes on until Shutdown ends it.
func TestReadiness(t *testing.T) {
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	base := "http://" + ts.APIAddr()
	if code, body := httpGet(t, base+"/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz after Start: %d %q", code, body)
	}
	done := make(chan struct{})
	go func() {
		defer close(done) // also when runSipp fails the test (Goexit)
		runSipp(t, ts, sippOptions{Scenario: "uac_wait_bye"})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(ts.Engine().Calls()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Drain()
	if code, body := httpGet(t, base+"/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Fatalf("/readyz while draining: %d %q", code, body)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz while draining: %d", code)
	}
	_, demoKey := ts.KeyFiles()
	key, _ := os.ReadFile(demoKey)
	req, _ := http.NewRequest("POST", base+"/sip-media-applications/demo-ivr/calls",
		strings.NewReader(`{"FromPhoneNumber":"+15550100","ToPhoneNumber":"+15550123"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("CreateSipMediaApplicationCall while draining: %d %s, want 503", res.StatusCode, b)
	}
	if n := len(ts.Engine().Calls()); n != 1 {
		t.Fatalf("%d calls while draining, want the one in progress", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx, 300*time.Millisecond); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-done // sipp exits 0 only once the server's BYE came
	if !strings.Contains(ts.Logs.String(), "drain time over: ending the calls still up") {
		t.Fatalf("the log does not say the drain ended the call:\n%s", tail(ts.Logs.String(), 2000))
	}
}

// TestMetricsDocumented: every mediaserver_ metric /metrics serves (after
// a call, so the counters have series) is in docs/operations.md with
// each of its labels, and every metric the document lists exists.
func TestMetricsDocumented(t *testing.T) {
	ts := startTestServer(t, nil, []config.Application{demoApp(t, config.DemoNumber)})
	runSipp(t, ts, sippOptions{Scenario: "uac_bye"})
	runSipp(t, ts, sippOptions{Scenario: "uac_404", Service: "+15550199"})
	ts.waitIdle(t)
	body := scrape(t, ts)
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // name -> its table row
	for _, m := range regexp.MustCompile("(?m)^\\| `(mediaserver_[a-z_]+)` \\|.*$").FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]] = m[0]
	}
	served := map[string]map[string]bool{} // family -> labels
	for _, m := range regexp.MustCompile(`(?m)^(mediaserver_[a-z_]+?)(?:_bucket|_sum|_count)?(?:\{([^}]*)\})? `).FindAllStringSubmatch(body, -1) {
		name := m[1]
		if _, ok := rows[name]; !ok {
			if base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count"); base != name {
				name = base
			}
		}
		if served[name] == nil {
			served[name] = map[string]bool{}
		}
		for _, kv := range regexp.MustCompile(`([a-z_]+)="`).FindAllStringSubmatch(m[2], -1) {
			if kv[1] != "le" {
				served[name][kv[1]] = true
			}
		}
	}
	if len(served) < 5 {
		t.Fatalf("only %d mediaserver_ metrics scraped:\n%s", len(served), body)
	}
	for name, labels := range served {
		row, ok := rows[name]
		if !ok {
			t.Errorf("%s is served but not documented in docs/operations.md", name)
			continue
		}
		for l := range labels {
			if !strings.Contains(row, "`"+l+"`") {
				t.Errorf("%s: label %s not documented", name, l)
			}
		}
	}
	// Every documented metric is one the server has (some have no series
	// until something happens, so look for its help line in the code's
	// registry: a scrape of a server that saw every event is impractical).
	src, _ := os.ReadFile(filepath.Join(repoRoot, "host", "tenancy", "metrics.go"))
	for name := range rows {
		if _, ok := served[name]; !ok && !strings.Contains(string(src), `"`+name+`"`) {
			t.Errorf("docs/operations.md documents %s, which the server does not have", name)
		}
	}
	// The dropped reasons documented are the ones served.
	var reasons []string
	for _, m := range regexp.MustCompile(`mediaserver_rtp_dropped_total\{reason="([a-z_]+)"\}`).FindAllStringSubmatch(body, -1) {
		reasons = append(reasons, m[1])
		if !strings.Contains(rows["mediaserver_rtp_dropped_total"], "`"+m[1]+"`") {
			t.Errorf("drop reason %s not documented", m[1])
		}
	}
	if !slices.Contains(reasons, "srtp_auth") || !slices.Contains(reasons, "srtp_replay") {
		t.Errorf("drop reasons %v lack srtp_auth and srtp_replay", reasons)
	}
	// /readyz and /metrics are served here and documented in the OpenAPI
	// document (host/api checks the document lists them).
	for _, r := range api.ServerRoutes {
		method, path, _ := strings.Cut(r, " ")
		if method != "GET" {
			t.Fatalf("route %s", r)
		}
		if code, _ := httpGet(t, "http://"+ts.APIAddr()+path); code == 404 || code == 405 {
			t.Errorf("%s is documented but not served (%d)", r, code)
		}
	}
}
