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
	"github.com/wasmvoice/mediaserver/host/store"
	"github.com/wasmvoice/mediaserver/host/tenant"
)

type calls struct {
	mu   sync.Mutex
	n    int
	live map[string]api.Call
	args map[string]string
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
	c := &calls{live: map[string]api.Call{}}
	srv := httptest.NewServer(api.New(reg, c, plugins{}, append([]api.Option{api.WithStore(blobs)}, opts...)...))
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
