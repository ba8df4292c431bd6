package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestApplications(t *testing.T) {
	e := newEnv(t, WithIDGenerator(func() string { return "generated-id" }))
	w := e.do("POST", "/sip-media-applications", e.secretA, []byte(`{"Name":"IVR","Webhook":"https://hook.example/x"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	app := decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication
	if app.SipMediaApplicationID != "generated-id" || app.Name != "IVR" || app.Webhook != "https://hook.example/x" {
		t.Fatalf("created %+v", app)
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"duplicate id", "POST", "/sip-media-applications", `{"SipMediaApplicationId":"app-a"}`, 409, CodeConflict, "application app-a: already exists"},
		{"bad id", "POST", "/sip-media-applications", `{"SipMediaApplicationId":"Bad Id"}`, 400, CodeBadRequest,
			`application id "Bad Id": want 1-64 of a-z, 0-9, '-', '_', starting with a letter or digit`},
		{"bad webhook", "PUT", "/sip-media-applications/app-a", `{"Webhook":"ftp://x"}`, 400, CodeBadRequest,
			`webhook "ftp://x" must be an http(s) URL`},
		{"null body", "POST", "/sip-media-applications", `null`, 400, CodeBadRequest, `body: want a JSON object, got null`},
		{"internal webhook", "POST", "/sip-media-applications", `{"Webhook":"http://169.254.169.254/latest"}`, 400, CodeBadRequest,
			`webhook "http://169.254.169.254/latest": address not allowed by the server's egress policy: 169.254.169.254 is in 169.254.0.0/16`},
		{"internal webhook update", "PUT", "/sip-media-applications/app-a", `{"Webhook":"http://127.0.0.1:22/"}`, 400, CodeBadRequest,
			`webhook "http://127.0.0.1:22/": address not allowed by the server's egress policy: 127.0.0.1 is in 127.0.0.0/8`},
		{"delete routed", "DELETE", "/sip-media-applications/app-a", ``, 409, CodeConflict,
			"application app-a: number +15550100 routes to it: in use"},
		{"get missing", "GET", "/sip-media-applications/nope", ``, 404, CodeNotFound, `application "nope": not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			wantError(t, e.do(tc.method, tc.path, e.secretA, body), tc.status, tc.code, tc.msg)
		})
	}
	w = e.do("GET", "/sip-media-applications", e.secretA, nil)
	list := decode[AppList](t, w.Body.Bytes()).SipMediaApplications
	var ids []string
	for _, a := range list {
		ids = append(ids, a.SipMediaApplicationID)
	}
	if !slices.Equal(ids, []string{"app-a", "generated-id"}) {
		t.Fatalf("listed %v", ids)
	}
	if w := e.do("DELETE", "/sip-media-applications/generated-id", e.secretA, nil); w.Code != http.StatusNoContent {
		t.Fatalf("delete %d %s", w.Code, w.Body)
	}
}

func TestNumbers(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"bad number", "POST", "/phone-numbers", `{"E164PhoneNumber":"15550100"}`, 400, CodeBadRequest, `E164PhoneNumber "15550100" is not an E.164 number like +15550100`},
		{"taken by another tenant", "POST", "/phone-numbers", `{"E164PhoneNumber":"+15550200"}`, 409, CodeConflict, "number +15550200: number is already taken"},
		{"owned already", "POST", "/phone-numbers", `{"E164PhoneNumber":"+15550100"}`, 409, CodeConflict, "number +15550100: already exists"},
		{"rule to other tenant's app", "PUT", "/phone-numbers/+15550100/rule", `{"SipMediaApplicationId":"app-b"}`, 404, CodeNotFound, `application "app-b": not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, e.secretA, []byte(tc.body)), tc.status, tc.code, tc.msg)
		})
	}
	w := e.do("PUT", "/phone-numbers/+15550100/rule", e.secretA, []byte(`{"SipMediaApplicationId":""}`))
	if n := decode[NumberResponse](t, w.Body.Bytes()).PhoneNumber; w.Code != 200 || n.E164PhoneNumber != numberA || n.SipMediaApplicationID != "" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if _, ok := e.reg.Route(numberA); ok {
		t.Fatal("the rule is still in the registry")
	}
	w = e.do("GET", "/phone-numbers", e.secretA, nil)
	if got := w.Body.String(); !strings.HasPrefix(got, `{"PhoneNumbers":[{"E164PhoneNumber":"+15550100","CreatedTimestamp":`) {
		t.Fatalf("list %s", got)
	}
}

func TestPlugins(t *testing.T) {
	e := newEnv(t, WithMaxModuleBytes(1000))
	wasm := []byte("\x00asm\x01\x00\x00\x00 fresh")
	up := func(secret string, body []byte, ct string) *httpResult {
		w := e.do("POST", "/plugins", secret, body, "Content-Type", ct)
		return &httpResult{w.Code, w.Body.Bytes()}
	}
	r := up(e.secretA, wasm, "application/wasm")
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	p := decode[PluginResponse](t, r.body).Plugin
	if p.Sha256 != shaOf(wasm) || p.Size != int64(len(wasm)) || p.Info == nil || p.Info.Mode != "reactor" {
		t.Fatalf("uploaded %+v", p)
	}
	if r := up(e.secretA, wasm, "application/wasm"); r.status != http.StatusOK {
		t.Fatalf("same bytes again: %d %s", r.status, r.body)
	}
	tests := []struct {
		name   string
		secret string
		body   []byte
		ct     string
		status int
		code   string
		msg    string
	}{
		{"not wasm", e.secretA, []byte("hello"), "application/wasm", 400, CodeBadRequest, `not a WebAssembly module (no \0asm magic)`},
		{"empty", e.secretA, []byte{}, "application/wasm", 400, CodeBadRequest, "empty body: send the module's bytes"},
		{"json content type", e.secretA, wasm, "application/json", 415, CodeBadRequest, `Content-Type "application/json": send the module's bytes as application/wasm`},
		{"over server cap", e.secretA, append([]byte("\x00asm"), make([]byte, 1000)...), "application/wasm", 413, CodeResourceLimitExceeded, "module of 1004 bytes is over the limit of 1000 bytes"},
		{"over tenant quota", e.secretB, append([]byte("\x00asm"), make([]byte, 61)...), "application/wasm", 413, CodeResourceLimitExceeded, "module of 65 bytes is over the limit of 64 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("POST", "/plugins", tc.secret, tc.body, "Content-Type", tc.ct)
			wantError(t, w, tc.status, tc.code, tc.msg)
		})
	}
	wantError(t, e.do("DELETE", "/plugins/"+e.sha2, e.secretA, nil), 409, CodeConflict,
		"plugin version "+e.sha2+" is application app-a's current version: in use")
	wantError(t, e.do("PUT", "/sip-media-applications/app-a/plugin", e.secretA, []byte(`{"Sha256":"abc"}`)), 400, CodeBadRequest,
		`plugin version "abc": want 64 lowercase hex digits`)

	w := e.do("PUT", "/sip-media-applications/app-a/plugin", e.secretA, []byte(`{"Sha256":"`+p.Sha256+`"}`))
	app := decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication
	if w.Code != 200 || app.Plugin != p.Sha256 || !slices.Equal(app.PluginHistory, []string{e.sha1, e.sha2}) {
		t.Fatalf("assign: %d %s", w.Code, w.Body)
	}
	for _, want := range []string{e.sha2, e.sha1} {
		w = e.do("POST", "/sip-media-applications/app-a/plugin/rollback", e.secretA, nil)
		if app := decode[AppResponse](t, w.Body.Bytes()).SipMediaApplication; w.Code != 200 || app.Plugin != want {
			t.Fatalf("rollback: %d %s, want plugin %s", w.Code, w.Body, want)
		}
	}
	wantError(t, e.do("POST", "/sip-media-applications/app-a/plugin/rollback", e.secretA, nil), 409, CodeConflict,
		"application app-a: no previous version")

	w = e.do("GET", "/plugins", e.secretA, nil)
	if n := len(decode[PluginList](t, w.Body.Bytes()).Plugins); w.Code != 200 || n != 3 {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
}

type httpResult struct {
	status int
	body   []byte
}

func TestLogsAndStats(t *testing.T) {
	e := newEnv(t)
	w := e.do("GET", "/sip-media-applications/app-a/logs?n=2", e.secretA, nil)
	logs := decode[LogList](t, w.Body.Bytes()).Logs
	if w.Code != 200 || len(logs) != 2 || logs[1].Text != "tenant-a/app-a line 2" {
		t.Fatalf("logs: %d %s", w.Code, w.Body)
	}
	for _, n := range []string{"0", "1001", "x", "-1"} {
		wantError(t, e.do("GET", "/sip-media-applications/app-a/logs?n="+n, e.secretA, nil), 400, CodeBadRequest,
			`n "`+n+`": want a whole number from 1 to 1000`)
	}
	w = e.do("GET", "/sip-media-applications/app-a/stats", e.secretA, nil)
	if got, want := w.Body.String(), `{"Stats":{"Invocations":7,"Errors":{"timeout":1},"LiveInstances":2,"IdleInstances":0}}`+"\n"; got != want {
		t.Fatalf("stats %s, want %s", got, want)
	}
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	w := e.do("POST", "/keys", e.secretA, []byte(`{"Name":"ci"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	k := decode[CreateKeyResponse](t, w.Body.Bytes())
	if k.Key.TenantID != tenantA || k.Key.Name != "ci" || k.Secret == "" {
		t.Fatalf("created %+v", k)
	}
	// The new secret works; the listing never shows secrets.
	w = e.do("GET", "/keys", k.Secret, nil)
	if w.Code != 200 || strings.Contains(w.Body.String(), k.Secret) || strings.Contains(w.Body.String(), e.secretA) {
		t.Fatalf("list %d %s", w.Code, w.Body)
	}
	if n := len(decode[KeyList](t, w.Body.Bytes()).Keys); n != 3 {
		t.Fatalf("%d keys, want 3", n)
	}
	if w := e.do("DELETE", "/keys/"+k.Key.KeyID, e.secretA, nil); w.Code != http.StatusNoContent {
		t.Fatalf("revoke %d %s", w.Code, w.Body)
	}
	wantError(t, e.do("GET", "/keys", k.Secret, nil), 401, CodeUnauthorized, errBadKey.Message)
}

func TestTenants(t *testing.T) {
	e := newEnv(t)
	w := e.do("POST", "/tenants", e.admin, []byte(`{"TenantId":"acme","Name":"Acme","Quotas":{"MaxConcurrentCalls":5,"EventDeadlineMs":250}}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	ten := decode[TenantResponse](t, w.Body.Bytes()).Tenant
	if ten.TenantID != "acme" || ten.Quotas.MaxConcurrentCalls != 5 || ten.Quotas.EventDeadlineMs != 250 {
		t.Fatalf("created %+v", ten)
	}
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"duplicate", "/tenants", `{"TenantId":"acme"}`, 409, CodeConflict, "tenant acme: already exists"},
		{"negative quota", "/tenants", `{"TenantId":"neg","Quotas":{"MaxConcurrentCalls":-1}}`, 400, CodeBadRequest, "quotas must not be negative"},
		{"huge deadline", "/tenants", `{"TenantId":"big","Quotas":{"EventDeadlineMs":9223372036854775807}}`, 400, CodeBadRequest, "Quotas.EventDeadlineMs 9223372036854775807 is over the limit of 86400000"},
		{"key for missing tenant", "/tenants/nobody/keys", `{"Name":"x"}`, 404, CodeNotFound, `tenant "nobody": not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", tc.path, e.admin, []byte(tc.body)), tc.status, tc.code, tc.msg)
		})
	}
	w = e.do("POST", "/tenants/acme/keys", e.admin, []byte(`{"Name":"first"}`))
	k := decode[CreateKeyResponse](t, w.Body.Bytes())
	if w.Code != http.StatusCreated || k.Key.TenantID != "acme" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w := e.do("GET", "/sip-media-applications", k.Secret, nil); w.Code != 200 || w.Body.String() != `{"SipMediaApplications":[]}`+"\n" {
		t.Fatalf("new tenant's key: %d %s", w.Code, w.Body)
	}
	w = e.do("GET", "/tenants", e.admin, nil)
	var ids []string
	for _, t := range decode[TenantList](t, w.Body.Bytes()).Tenants {
		ids = append(ids, t.TenantID)
	}
	if !slices.Equal(ids, []string{"acme", tenantA, tenantB}) {
		t.Fatalf("tenants %v", ids)
	}
}

func TestBuckets(t *testing.T) {
	e := newEnv(t, WithMaxObjectBytes(100))
	w := e.do("PUT", "/buckets/prompts/objects/menu/welcome.wav", e.secretA, []byte("RIFF...."))
	if obj := decode[ObjectResponse](t, w.Body.Bytes()).Object; w.Code != 200 || obj.Key != "menu/welcome.wav" || obj.Size != 8 {
		t.Fatalf("put %d %s", w.Code, w.Body)
	}
	w = e.do("GET", "/buckets/prompts/objects/menu/welcome.wav", e.secretA, nil)
	if w.Code != 200 || w.Body.String() != "RIFF...." {
		t.Fatalf("get %d %q", w.Code, w.Body)
	}
	w = e.do("GET", "/buckets/prompts/objects?prefix=menu/", e.secretA, nil)
	objs := decode[ObjectList](t, w.Body.Bytes()).Objects
	if w.Code != 200 || len(objs) != 1 || objs[0].Key != "menu/welcome.wav" {
		t.Fatalf("list %d %s", w.Code, w.Body)
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"plugin bucket", "PUT", "/buckets/plugins/objects/" + e.sha1, "x", 403, CodeForbidden, `bucket "plugins" is reserved for plugin versions: use /plugins`},
		{"bad bucket", "GET", "/buckets/AB/objects", "", 400, CodeBadRequest, `bucket "AB" must be 3 to 63 characters`},
		{"dot segment", "GET", "/buckets/prompts/objects/a/%2e%2e/b", "", 400, CodeBadRequest, `key "a/../b" has a ".." segment`},
		{"too big", "PUT", "/buckets/prompts/objects/big", strings.Repeat("x", 101), 413, CodeResourceLimitExceeded, "object of 101 bytes is over the limit of 100 bytes"},
		{"missing", "GET", "/buckets/prompts/objects/nope.wav", "", 404, CodeNotFound, `object not found: prompts/nope.wav`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			wantError(t, e.do(tc.method, tc.path, e.secretA, body), tc.status, tc.code, tc.msg)
		})
	}
	if w := e.do("DELETE", "/buckets/prompts/objects/menu/welcome.wav", e.secretA, nil); w.Code != http.StatusNoContent {
		t.Fatalf("delete %d %s", w.Code, w.Body)
	}
}

func TestNoStore(t *testing.T) {
	e := newEnv(t)
	e.h = New(e.reg, nil, nil)
	wantError(t, e.do("GET", "/buckets/prompts/objects", e.secretA, nil), 503, CodeServiceUnavailable, "bucket objects are not available on this server")
	wantError(t, e.do("DELETE", "/calls/x", e.secretA, nil), 503, CodeServiceUnavailable, "calls are not available on this server")
	if w := e.do("GET", "/calls", e.secretA, nil); w.Code != 200 || w.Body.String() != `{"Calls":[]}`+"\n" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}
