package server

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/tenancy"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

// TestUploadStartsTheModule: an upload starts the module once, so one
// whose _initialize never ends or traps is refused with what it logged,
// instead of being stored and its numbers answering 503.
func TestUploadStartsTheModule(t *testing.T) {
	t.Parallel()
	ts := startTestServer(t, nil, nil)
	key := ts.newTenant(t, "acme", api.Quotas{}, "app", "+15550161")
	for _, tc := range []struct {
		name, want string
	}{
		{"initloop", "the module failed to start: plugin timed out: instantiation took over 2s\nlog: starting up forever"},
		{"inittrap", "the module failed to start: plugin trapped: wasm error: unreachable\nlog: no configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wasm := readFile(t, requireFile(t, filepath.Join(hostileBins, tc.name+".wasm"), "run host/plugin/testdata/build.sh"))
			var e api.ErrorResponse
			ts.apiJSON(t, "POST", "/plugins", key, wasm, http.StatusBadRequest, &e, "Content-Type", "application/wasm")
			if e.Code != api.CodeBadRequest || e.Message != tc.want {
				t.Fatalf("answer %+v, want %q", e, tc.want)
			}
		})
	}
	var pl api.PluginList
	ts.apiJSON(t, "GET", "/plugins", key, nil, http.StatusOK, &pl)
	if len(pl.Plugins) != 0 {
		t.Fatalf("refused uploads were stored: %+v", pl.Plugins)
	}
}

// TestTenantQuotas: the key-value store, applications and plugin versions
// of a tenant are bounded by its quotas (set through the API) or by the
// server's defaults.
func TestTenantQuotas(t *testing.T) {
	t.Parallel()
	good := readFile(t, requireFile(t, filepath.Join(hostileBins, "good.wasm"), "run host/plugin/testdata/build.sh"))
	ts := startTestServer(t, nil, nil, WithDefaultQuotas(tenant.Quotas{MaxKVBytes: 1000}))
	key := ts.newTenant(t, "small", api.Quotas{MaxKVBytes: 5 << 10, MaxApps: 2, MaxPluginVersions: 1}, "a", "+15550171")
	var tl api.TenantList
	ts.apiJSON(t, "GET", "/tenants", ts.adminKey(t), nil, http.StatusOK, &tl)
	for _, tn := range tl.Tenants {
		if tn.TenantID == "small" && (tn.Quotas.MaxKVBytes != 5<<10 || tn.Quotas.MaxApps != 2 || tn.Quotas.MaxPluginVersions != 1) {
			t.Fatalf("quotas as listed: %+v", tn.Quotas)
		}
	}

	// The store the plugins use: 5 KiB for small, the 1000-byte default
	// for a tenant without its own.
	val := make([]byte, 1<<10)
	var err error
	for i := range 10 {
		if err = ts.ten.KV().Set("small", string(rune('a'+i)), val); err != nil {
			break
		}
	}
	if !errors.Is(err, kv.ErrQuotaExceeded) {
		t.Fatalf("10 KiB into a 5 KiB quota: %v", err)
	}
	if n, _ := ts.ten.KV().Usage("small"); n > 5<<10 {
		t.Fatalf("usage %d over the quota", n)
	}
	if err := ts.ten.KV().Set("other", "k", val); !errors.Is(err, kv.ErrQuotaExceeded) {
		t.Fatalf("1 KiB into the 1000-byte default: %v", err)
	}

	ts.apiJSON(t, "POST", "/sip-media-applications", key, api.CreateAppRequest{SipMediaApplicationID: "b", Name: "b"}, http.StatusCreated, nil)
	var e api.ErrorResponse
	ts.apiJSON(t, "POST", "/sip-media-applications", key, api.CreateAppRequest{SipMediaApplicationID: "c", Name: "c"}, http.StatusBadRequest, &e)
	if e.Code != api.CodeResourceLimitExceeded || e.Message != "application c: the tenant already has 2 applications, its limit: quota exceeded" {
		t.Fatalf("third application: %+v", e)
	}

	v1 := ts.uploadPlugin(t, key, good, http.StatusCreated).Plugin.Sha256
	v2 := ts.uploadPlugin(t, key, withCustomSection(good, "v2"), http.StatusCreated).Plugin.Sha256
	ts.apiJSON(t, "PUT", "/sip-media-applications/a/plugin", key, api.AssignPluginRequest{Sha256: v1}, http.StatusOK, nil)
	ts.apiJSON(t, "PUT", "/sip-media-applications/b/plugin", key, api.AssignPluginRequest{Sha256: v2}, http.StatusBadRequest, &e)
	if e.Code != api.CodeResourceLimitExceeded || e.Message != "the tenant's applications would run 2 plugin versions, over its limit of 1: quota exceeded" {
		t.Fatalf("a second version: %+v", e)
	}

	// Loaded versions (calls may hold old ones): twice the quota at most.
	q, _ := ts.Registry().Quotas("small")
	var held []*tenancy.Hold
	for _, sha := range []string{v1, v2} {
		v, err := ts.ten.Hold(context.Background(), "small", sha, q)
		if err != nil {
			t.Fatalf("load %s: %v", sha[:8], err)
		}
		held = append(held, v)
	}
	v3 := ts.uploadPlugin(t, key, withCustomSection(good, "v3"), http.StatusCreated).Plugin.Sha256
	_, err = ts.ten.Hold(context.Background(), "small", v3, q)
	if !errors.Is(err, tenancy.ErrTooManyVersions) {
		t.Fatalf("a third loaded version: %v, want ErrTooManyVersions", err)
	}
	held[1].Release()
	v, err := ts.ten.Hold(context.Background(), "small", v3, q)
	if err != nil {
		t.Fatalf("once one is released: %v", err)
	}
	v.Release()
	held[0].Release()
}

// TestLoadRetried: a load that fails for a passing reason (here its
// context ended) is tried again by the next call, and in the background
// while the version is current; before, the failure stood until the
// registry changed and the application answered 503.
func TestLoadRetried(t *testing.T) {
	t.Parallel()
	good := readFile(t, requireFile(t, filepath.Join(hostileBins, "good.wasm"), "run host/plugin/testdata/build.sh"))
	ts := startTestServer(t, nil, nil)
	key := ts.newTenant(t, "acme", api.Quotas{}, "app", "+15550181")
	sha := ts.uploadPlugin(t, key, good, http.StatusCreated).Plugin.Sha256
	q, _ := ts.Registry().Quotas("acme")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ts.ten.Hold(canceled, "acme", sha, q); err == nil {
		t.Fatal("a load with a canceled context succeeded")
	}
	v, err := ts.ten.Hold(context.Background(), "acme", sha, q)
	if err != nil {
		t.Fatalf("the next call: %v", err)
	}
	v.Release()

	// Current: the version of an application. Fail its load; the
	// background retry loads it without a call.
	ts.apiJSON(t, "PUT", "/sip-media-applications/app/plugin", key, api.AssignPluginRequest{Sha256: sha}, http.StatusOK, nil)
	loaded := func() bool {
		for _, v := range ts.ten.Versions() {
			if v.Tenant == "acme" && v.SHA == sha && v.Loaded {
				return true
			}
		}
		return false
	}
	waitFor(t, "the assigned version loaded", loaded)
	ts.ten.DropVersion(context.Background(), "acme", sha)
	if _, err := ts.ten.Hold(canceled, "acme", sha, q); err == nil {
		t.Fatal("a load with a canceled context succeeded")
	}
	waitFor(t, "the background retry", loaded)
}
