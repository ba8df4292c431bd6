package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wasmvoice/mediaserver/host/api"
	"github.com/wasmvoice/mediaserver/host/kv"
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

type calls struct {
	mu   sync.Mutex
	n    int
	live map[string]api.Call
	args map[string]string
	ops  []string
}

func (c *calls) CreateCall(_ context.Context, ten, app string, req api.CreateCallRequest) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	tx := fmt.Sprintf("tx-%d", c.n)
	c.live[tx] = api.Call{TransactionID: tx, TenantID: ten, SipMediaApplicationID: app, From: req.FromPhoneNumber, To: req.ToPhoneNumber}
	return tx, nil
}

func (c *calls) UpdateCall(_ context.Context, ten, app, tx string, args map[string]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.live[tx]; !ok || cl.TenantID != ten || cl.SipMediaApplicationID != app {
		return fmt.Errorf("transaction %q: %w", tx, api.ErrNotFound)
	}
	c.args = args
	return nil
}

func (c *calls) HangupCall(_ context.Context, ten, tx string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.live[tx]; !ok || (ten != "" && cl.TenantID != ten) {
		return fmt.Errorf("transaction %q: %w", tx, api.ErrNotFound)
	}
	delete(c.live, tx)
	return nil
}

func (c *calls) ListCalls(ten string) []api.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []api.Call
	for _, cl := range c.live {
		if ten == "" || cl.TenantID == ten {
			out = append(out, cl)
		}
	}
	return out
}

// The iotcomms operations: ids of session "sess-1" belong to the tenant
// that placed it; ops records what reached the server.
func (c *calls) PlaceIvrCall(_ context.Context, ten, app string, req api.PlaceIvrCallRequest) (api.PlaceIvrCallResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live["sess-1"] = api.Call{TransactionID: "sess-1", TenantID: ten, SipMediaApplicationID: app, To: req.DestAddr}
	c.ops = append(c.ops, fmt.Sprintf("place %s %s %s %d %v", app, req.DestAddr, req.FromAddr, req.Timeout, req.Headers))
	return api.PlaceIvrCallResponse{SessionID: "sess-1", ParticipantID: "sess-1/p1"}, nil
}

func (c *calls) op(ten, id string, format string, args ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	sess, _, _ := strings.Cut(id, "/")
	if cl, ok := c.live[sess]; !ok || cl.TenantID != ten {
		return fmt.Errorf("%w: session of %s", api.ErrNotFound, id)
	}
	c.ops = append(c.ops, fmt.Sprintf(format, args...))
	return nil
}

func (c *calls) SplitConnection(_ context.Context, ten, conn, reply string) error {
	return c.op(ten, conn, "split %s %s", conn, reply)
}
func (c *calls) Connect(_ context.Context, ten, a, b string) error {
	return c.op(ten, a, "connect %s %s", a, b)
}
func (c *calls) CreateConferenceConnection(_ context.Context, ten, sess string) (string, error) {
	return sess + "/9", c.op(ten, sess, "conference %s", sess)
}
func (c *calls) InterruptIvrCommand(_ context.Context, ten, p string) error {
	return c.op(ten, p, "interrupt %s", p)
}
func (c *calls) HangupParticipant(_ context.Context, ten, p string) error {
	return c.op(ten, p, "hangup %s", p)
}
func (c *calls) StopRecording(_ context.Context, ten, sess string) error {
	return c.op(ten, sess, "stoprecording %s", sess)
}

type plugins struct{}

func (plugins) Check(_ context.Context, _ string, wasm []byte) (api.PluginInfo, error) {
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		return api.PluginInfo{}, fmt.Errorf("%w: not a WebAssembly module", api.ErrInvalid)
	}
	return api.PluginInfo{Mode: "reactor", ABIVersion: 1}, nil
}
func (plugins) Logs(ten, app string, n int) []api.LogLine {
	return []api.LogLine{{Level: "info", Text: ten + "/" + app}}
}
func (plugins) Stats(string, string) api.PluginStats { return api.PluginStats{Invocations: 3} }

// server starts the real handler over a real registry and returns the URL
// and an admin secret.
func server(t *testing.T, opts ...api.Option) (string, string, *calls) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := store.NewFolder(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tenant.Open(filepath.Join(dir, "registry.db"), blobs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	admin, _, err := reg.CreateAdminKey("ops")
	if err != nil {
		t.Fatal(err)
	}
	kvs, err := kv.Open(filepath.Join(dir, "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kvs.Close() })
	c := &calls{live: map[string]api.Call{}}
	srv := httptest.NewServer(api.New(reg, c, plugins{}, append([]api.Option{api.WithStore(blobs), api.WithKV(kvs)}, opts...)...))
	t.Cleanup(srv.Close)
	return srv.URL, admin, c
}

func mustClient(t *testing.T, url, secret string, opts ...Option) *Client {
	t.Helper()
	c, err := New(url, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLifecycle(t *testing.T) {
	url, adminSecret, fake := server(t)
	ctx := t.Context()
	admin := mustClient(t, url+"/", adminSecret)
	if err := admin.Healthz(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateTenant(ctx, api.CreateTenantRequest{TenantID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateTenantKey(ctx, "acme", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	c := mustClient(t, url, k.Secret)

	app, err := c.CreateApp(ctx, api.CreateAppRequest{SipMediaApplicationID: "ivr", Name: "IVR"})
	if err != nil || app.SipMediaApplicationID != "ivr" {
		t.Fatalf("create app: %+v %v", app, err)
	}
	if _, err := c.AddNumber(ctx, "+15550100"); err != nil {
		t.Fatal(err)
	}
	n, err := c.SetRule(ctx, "+15550100", "ivr")
	if err != nil || n.SipMediaApplicationID != "ivr" {
		t.Fatalf("rule: %+v %v", n, err)
	}
	p, err := c.UploadPlugin(ctx, []byte("\x00asm\x01\x00\x00\x00"))
	if err != nil || p.Info == nil || p.Info.Mode != "reactor" {
		t.Fatalf("upload: %+v %v", p, err)
	}
	if app, err = c.AssignPlugin(ctx, "ivr", p.Sha256); err != nil || app.Plugin != p.Sha256 {
		t.Fatalf("assign: %+v %v", app, err)
	}
	tx, err := c.CreateCall(ctx, "ivr", api.CreateCallRequest{FromPhoneNumber: "+15550100", ToPhoneNumber: "+15550123"})
	if err != nil || tx != "tx-1" {
		t.Fatalf("create call: %q %v", tx, err)
	}
	if err := c.UpdateCall(ctx, "ivr", tx, map[string]string{"JoinToken": "abc"}); err != nil || fake.args["JoinToken"] != "abc" {
		t.Fatalf("update: %v %v", err, fake.args)
	}
	cs, err := c.ListCalls(ctx)
	if err != nil || len(cs) != 1 || cs[0].TransactionID != tx {
		t.Fatalf("calls: %+v %v", cs, err)
	}
	if err := c.Hangup(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateCall(ctx, "ivr", tx, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update after hangup: %v, want ErrNotFound", err)
	}
	logs, err := c.Logs(ctx, "ivr", 5)
	if err != nil || len(logs) != 1 || logs[0].Text != "acme/ivr" {
		t.Fatalf("logs: %+v %v", logs, err)
	}
	if st, err := c.Stats(ctx, "ivr"); err != nil || st.Invocations != 3 {
		t.Fatalf("stats: %+v %v", st, err)
	}

	const key = "menu/hello world.wav"
	if _, err := c.PutObject(ctx, "prompts", key, strings.NewReader("RIFF")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.GetObject(ctx, "prompts", key, &buf); err != nil || buf.String() != "RIFF" {
		t.Fatalf("get: %q %v", buf.String(), err)
	}
	objs, err := c.ListObjects(ctx, "prompts", "menu/")
	if err != nil || len(objs) != 1 || objs[0].Key != key {
		t.Fatalf("list objects: %+v %v", objs, err)
	}
	if err := c.DeleteObject(ctx, "prompts", key); err != nil {
		t.Fatal(err)
	}

	nk, err := c.CreateKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if ks, err := c.ListKeys(ctx); err != nil || len(ks) != 2 {
		t.Fatalf("keys: %+v %v", ks, err)
	}
	if err := c.RevokeKey(ctx, nk.Key.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := mustClient(t, url, nk.Secret).ListApps(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked key: %v", err)
	}
	// An admin acting for the tenant sees its applications.
	apps, err := mustClient(t, url, adminSecret, WithTenant("acme")).ListApps(ctx)
	if err != nil || len(apps) != 1 {
		t.Fatalf("admin as acme: %+v %v", apps, err)
	}
	if _, err := c.ListTenants(ctx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("tenant listing tenants: %v", err)
	}
}

// tenantClient creates tenant acme and returns its client beside the
// admin's.
func tenantClient(t *testing.T, url, adminSecret string) (acme, admin *Client) {
	t.Helper()
	admin = mustClient(t, url, adminSecret)
	if _, err := admin.CreateTenant(t.Context(), api.CreateTenantRequest{TenantID: "acme"}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateTenantKey(t.Context(), "acme", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	return mustClient(t, url, k.Secret), admin
}

func TestIotcomms(t *testing.T) {
	url, adminSecret, fake := server(t)
	ctx := t.Context()
	c, _ := tenantClient(t, url, adminSecret)
	if _, err := c.PlaceIvrCall(ctx, api.PlaceIvrCallRequest{DestAddr: "+15550123"}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("without an iotcomms application: %v, want ErrBadRequest", err)
	}
	if _, err := c.CreateApp(ctx, api.CreateAppRequest{SipMediaApplicationID: "alarm", Model: "iotcomms", Webhook: "https://example.com/iot"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.PlaceIvrCall(ctx, api.PlaceIvrCallRequest{DestAddr: "+15550123", FromAddr: "+15550100", Timeout: 30, Headers: map[string]string{"X-Site": "7"}})
	if err != nil || res != (api.PlaceIvrCallResponse{SessionID: "sess-1", ParticipantID: "sess-1/p1"}) {
		t.Fatalf("place: %+v %v", res, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.SplitConnection(ctx, "sess-1/1", "r-1"))
	must(c.SplitConnection(ctx, "sess-1/2", ""))
	must(c.Connect(ctx, "sess-1/p1", "sess-1/p2"))
	conn, err := c.CreateConferenceConnection(ctx, "sess-1")
	if err != nil || conn != "sess-1/9" {
		t.Fatalf("conference: %q %v", conn, err)
	}
	must(c.InterruptIvrCommand(ctx, "sess-1/p2"))
	must(c.HangupParticipant(ctx, "sess-1/p2"))
	must(c.StopRecording(ctx, "sess-1"))
	want := []string{"place alarm +15550123 +15550100 30 map[X-Site:7]", "split sess-1/1 r-1", "split sess-1/2 ",
		"connect sess-1/p1 sess-1/p2", "conference sess-1", "interrupt sess-1/p2", "hangup sess-1/p2", "stoprecording sess-1"}
	if strings.Join(fake.ops, "|") != strings.Join(want, "|") {
		t.Fatalf("server got\n%q\nwant\n%q", fake.ops, want)
	}
	if err := c.HangupParticipant(ctx, "sess-2/p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown participant: %v", err)
	}
	if err := c.Connect(ctx, "sess-1/p1", ""); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("connect without a second participant: %v", err)
	}
}

func TestPromptFilesAndKV(t *testing.T) {
	url, adminSecret, _ := server(t)
	ctx := t.Context()
	c, _ := tenantClient(t, url, adminSecret)
	// A WAV header and 2 samples of 8 kHz 16-bit mono.
	wav := []byte("RIFF\x28\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x10\x00\x20\x00")
	const name = "menu/hello world.wav"
	pf, err := c.PutPromptFile(ctx, name, bytes.NewReader(wav))
	if err != nil || pf.FileName != name || pf.Size != int64(len(wav)) {
		t.Fatalf("put: %+v %v", pf, err)
	}
	if _, err := c.PutPromptFile(ctx, "x.wav", strings.NewReader("not audio")); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("put text: %v", err)
	}
	var buf bytes.Buffer
	if err := c.GetPromptFile(ctx, name, &buf); err != nil || !bytes.Equal(buf.Bytes(), wav) {
		t.Fatalf("get: %q %v", buf.Bytes(), err)
	}
	files, err := c.ListPromptFiles(ctx, "menu/")
	if err != nil || len(files) != 1 || files[0].FileName != name {
		t.Fatalf("list: %+v %v", files, err)
	}
	if files, err = c.ListPromptFiles(ctx, "other/"); err != nil || len(files) != 0 {
		t.Fatalf("list other/: %+v %v", files, err)
	}
	if err := c.DeletePromptFile(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := c.GetPromptFile(ctx, name, &buf); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}

	keys := []string{"iot/s1/a", "iot/s1/b", "iot/s1/c", "iot/s2/a", "x y/%z"}
	for _, k := range keys {
		if err := c.PutKV(ctx, k, []byte("v-"+k)); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	if v, err := c.GetKV(ctx, "x y/%z"); err != nil || string(v) != "v-x y/%z" {
		t.Fatalf("get: %q %v", v, err)
	}
	page, err := c.ListKVPage(ctx, "iot/s1/", "", 2)
	if err != nil || len(page.Entries) != 2 || page.NextToken == "" {
		t.Fatalf("page: %+v %v", page, err)
	}
	all, err := c.ListKV(ctx, "")
	if err != nil || len(all) != len(keys) {
		t.Fatalf("list: %+v %v", all, err)
	}
	for i, e := range all {
		if e.Key != keys[i] || e.Size != len("v-"+keys[i]) {
			t.Fatalf("entry %d: %+v, want key %q", i, e, keys[i])
		}
	}
	if err := c.DeleteKV(ctx, "iot/s2/a"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKV(ctx, "iot/s2/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := c.GetKV(ctx, "iot/s2/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	// Keys the router would clean into another key are refused unsent.
	for _, k := range []string{"", "/a", "a//b", "a/./b", "../a", "a/.."} {
		if _, err := c.GetKV(ctx, k); !errors.Is(err, ErrBadKey) {
			t.Errorf("get %q: %v, want ErrBadKey", k, err)
		}
		if err := c.PutKV(ctx, k, nil); !errors.Is(err, ErrBadKey) {
			t.Errorf("put %q: %v, want ErrBadKey", k, err)
		}
	}
	if err := c.PutKV(ctx, "dir/", []byte("trailing slash")); err != nil {
		t.Fatalf("trailing slash: %v", err)
	}
	if v, err := c.GetKV(ctx, "dir/"); err != nil || string(v) != "trailing slash" {
		t.Fatalf("get trailing slash: %q %v", v, err)
	}
}

func TestDialPolicy(t *testing.T) {
	url, adminSecret, _ := server(t)
	ctx := t.Context()
	c, admin := tenantClient(t, url, adminSecret)
	ten, err := admin.SetDialPolicy(ctx, "acme", api.DialPolicy{AllowedHosts: []string{"pbx.acme.test"}, AllowedPrefixes: []string{"+46"}})
	if err != nil || ten.DialPolicy == nil || ten.DialPolicy.AllowedHosts[0] != "pbx.acme.test" || ten.DialPolicy.AllowedPrefixes[0] != "+46" {
		t.Fatalf("set: %+v %v", ten, err)
	}
	if _, err := admin.SetDialPolicy(ctx, "acme", api.DialPolicy{AllowedHosts: []string{"bad host"}}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bad host: %v", err)
	}
	if _, err := c.SetDialPolicy(ctx, "acme", api.DialPolicy{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("tenant key: %v", err)
	}
	if err := admin.ClearDialPolicy(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	ts, err := admin.ListTenants(ctx)
	if err != nil || len(ts) != 1 || ts[0].DialPolicy != nil {
		t.Fatalf("after clear: %+v %v", ts, err)
	}
	if err := admin.ClearDialPolicy(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
}

func TestErrors(t *testing.T) {
	url, adminSecret, _ := server(t, api.WithRateLimit(1, 1))
	ctx := t.Context()
	admin := mustClient(t, url, adminSecret)
	_, err := admin.CreateTenant(ctx, api.CreateTenantRequest{TenantID: "Bad Id"})
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != api.CodeBadRequest ||
		e.Message != `tenant id "Bad Id": want 1-64 of a-z, 0-9, '-', '_', starting with a letter or digit` {
		t.Fatalf("error %#v", err)
	}
	_, err = admin.ListTenants(ctx)
	if !errors.As(err, &e) || !errors.Is(err, ErrThrottled) || e.RetryAfter.Seconds() != 1 {
		t.Fatalf("throttled: %#v", err)
	}
	tests := []struct {
		name string
		url  string
	}{
		{"no scheme", "127.0.0.1:8080"},
		{"ftp", "ftp://127.0.0.1"},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.url, "x"); !errors.Is(err, ErrBadURL) {
				t.Fatalf("New(%q): %v, want ErrBadURL", tc.url, err)
			}
		})
	}
}
