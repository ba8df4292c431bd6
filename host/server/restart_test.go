package server

import (
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/config"
	"github.com/wasmvoice/mediaserver/host/tenancy"
)

// TestRestartKeepsState: tenants, keys (authentication works after the
// restart), plugin versions, assignments, rules, KV and bucket objects
// survive a restart on the same data directory, and calls route as
// before.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp", "sip-tester")
	wasm := readFile(t, requireFile(t, meetingC, "run `make plugins`"))
	data := t.TempDir()
	cfg1 := testConfig(t)
	cfg1.DataDir = data
	ts1 := startTestServer(t, cfg1, []config.Application{demoApp(t, config.DemoNumber)})
	admin := ts1.adminKey(t)
	_, demoFile := ts1.KeyFiles()
	demoKey, err := readKey(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	key := ts1.newTenant(t, "acme", api.Quotas{MaxConcurrentCalls: 7}, "meet", "+15550161")
	sha := ts1.uploadPlugin(t, key, wasm, http.StatusCreated).Plugin.Sha256
	ts1.apiJSON(t, "PUT", "/sip-media-applications/meet/plugin", key, api.AssignPluginRequest{Sha256: sha}, http.StatusOK, nil)
	recording := []byte("RIFF....WAVE a recording")
	ts1.putObject(t, key, "recordings", "calls/one.wav", recording)
	if err := ts1.ten.KV().Set("acme", "counter", []byte("42")); err != nil {
		t.Fatal(err)
	}
	if err := ts1.Close(); err != nil {
		t.Fatal(err)
	}

	cfg2 := testConfig(t)
	cfg2.DataDir = data
	ts2 := startTestServer(t, cfg2, []config.Application{demoApp(t, config.DemoNumber)})
	if got := ts2.adminKey(t); got != admin {
		t.Fatal("the admin key file changed across the restart")
	}
	if got, err := readKey(filepath.Join(data, tenancy.DemoKeyFile)); err != nil || got != demoKey {
		t.Fatalf("the demo key file changed across the restart (%v)", err)
	}
	ts2.apiJSON(t, "GET", "/calls", demoKey, nil, http.StatusOK, nil)
	var tl api.TenantList
	ts2.apiJSON(t, "GET", "/tenants", admin, nil, http.StatusOK, &tl)
	found := false
	for _, tn := range tl.Tenants {
		found = found || (tn.TenantID == "acme" && tn.Quotas.MaxConcurrentCalls == 7)
	}
	if !found {
		t.Fatalf("tenant acme with its quota missing after restart: %+v", tl.Tenants)
	}
	var app api.AppResponse
	ts2.apiJSON(t, "GET", "/sip-media-applications/meet", key, nil, http.StatusOK, &app)
	if app.SipMediaApplication.Plugin != sha {
		t.Fatalf("assignment after restart: %q, want %s", app.SipMediaApplication.Plugin, sha)
	}
	var pl api.PluginList
	ts2.apiJSON(t, "GET", "/plugins", key, nil, http.StatusOK, &pl)
	if len(pl.Plugins) != 1 || pl.Plugins[0].Sha256 != sha {
		t.Fatalf("versions after restart: %+v", pl.Plugins)
	}
	res := ts2.apiDo(t, "GET", "/buckets/recordings/objects/calls/one.wav", key, nil)
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != string(recording) {
		t.Fatalf("object after restart: %d %q", res.StatusCode, got)
	}
	if v, ok, err := ts2.ten.KV().Get("acme", "counter"); err != nil || !ok || string(v) != "42" {
		t.Fatalf("KV after restart: %q %v %v", v, ok, err)
	}
	runSipp(t, ts2, sippOptions{Scenario: "uac_bye", Service: "+15550161"})
	ts2.waitIdle(t)
	invs := ts2.obs.snapshot()
	if len(invs) == 0 || invs[0].Tenant != "acme" || invs[0].Plugin != sha {
		t.Fatalf("the call after restart did not run acme's version %s: %+v", sha, firstPlugin(invs))
	}
}
