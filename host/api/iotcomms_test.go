package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmvoice/mediaserver/host/tenant"
)

func decodeBody[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return v
}

// /placeivrcall runs in the tenant's iotcomms application: the one named,
// or its only one.
func TestPlaceIvrCall(t *testing.T) {
	e := newEnv(t)
	place := func(body string) *httptest.ResponseRecorder {
		return e.do("POST", "/placeivrcall", e.secretA, []byte(body))
	}
	w := place(`{"destAddr":"+15550123"}`)
	wantError(t, w, 400, CodeBadRequest, `no iotcomms application: create one with Model "iotcomms"`)
	w = place(`{"destAddr":"+15550123","applicationId":"` + appA + `"}`)
	wantError(t, w, 400, CodeBadRequest, `application app-a has model "chime": /placeivrcall needs an iotcomms application`)

	if _, err := e.reg.NewApp(tenantA, tenant.AppSpec{ID: "iot-1", Name: "iot", Webhook: "https://a.example/iot", Model: tenant.ModelIotcomms}); err != nil {
		t.Fatal(err)
	}
	// Members of iotcomms' API that mean nothing here are ignored.
	w = place(`{"destAddr":"sip:alarm@127.0.0.1:5090","fromAddr":"+15550100","timeout":30,"headers":{"X-Site":"7"},"callbackUrl":"https://x"}`)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	got := decodeBody[PlaceIvrCallResponse](t, w.Body.Bytes())
	if got.SessionID == "" || !strings.HasPrefix(got.ParticipantID, got.SessionID+"/") {
		t.Fatalf("answer %+v", got)
	}
	if lp := e.calls.lastPlace; lp.DestAddr != "sip:alarm@127.0.0.1:5090" || lp.FromAddr != "+15550100" || lp.Timeout != 30 || lp.Headers["X-Site"] != "7" {
		t.Fatalf("request reached the server as %+v", lp)
	}
	if c := e.calls.ListCalls(tenantA); len(c) != 2 {
		t.Fatalf("calls %+v", c)
	}
	if _, err := e.reg.NewApp(tenantA, tenant.AppSpec{ID: "iot-2", Name: "iot", Webhook: "https://a.example/iot2", Model: tenant.ModelIotcomms}); err != nil {
		t.Fatal(err)
	}
	wantError(t, place(`{"destAddr":"+15550123"}`), 400, CodeBadRequest, "2 iotcomms applications: name one with applicationId")
	if w = place(`{"destAddr":"+15550123","applicationId":"iot-2"}`); w.Code != 200 {
		t.Fatalf("named: %d %s", w.Code, w.Body)
	}
	for body, msg := range map[string]string{
		`{}`:                              "destAddr is required",
		`{"destAddr":"+1","timeout":301}`: "timeout 301: want 0..300 seconds",
		`{"destAddr":"+1","headers":{"Via":"x"}}`:         `is not allowed: only X-`,
		`{"destAddr":"` + strings.Repeat("1", 200) + `"}`: "destAddr is longer than 128 bytes",
		`{"destAddr":5}`: "",
	} {
		w := place(body)
		if w.Code != 400 || (msg != "" && !strings.Contains(w.Body.String(), msg)) {
			t.Fatalf("%s: %d %s, want 400 %q", body, w.Code, w.Body, msg)
		}
	}
}

// The session operations answer {} and find only the tenant's sessions;
// ids are required.
func TestIotOperations(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ path, body, missing string }{
		{"/splitconnection", `{"connectionId":"` + txA + `/1"}`, "connectionId is required"},
		{"/connect", `{"participantId":"` + txA + `/p1","participantId2":"` + txA + `/p2"}`, "participantId is required"},
		{"/interruptivrcommand", `{"participantId":"` + txA + `/p2"}`, "participantId is required"},
		{"/hangupparticipant", `{"participantId":"` + txA + `/p2"}`, "participantId is required"},
		{"/stoprecording", `{"sessionId":"` + txA + `"}`, "sessionId is required"},
	} {
		w := e.do("POST", tc.path, e.secretA, []byte(tc.body))
		if w.Code != 200 || strings.TrimSpace(w.Body.String()) != "{}" {
			t.Fatalf("%s: %d %s", tc.path, w.Code, w.Body)
		}
		wantError(t, e.do("POST", tc.path, e.secretA, []byte(`{}`)), 400, CodeBadRequest, tc.missing)
		if w := e.do("POST", tc.path, e.secretB, []byte(tc.body)); w.Code != 404 {
			t.Fatalf("%s by tenant b: %d %s", tc.path, w.Code, w.Body)
		}
	}
	wantError(t, e.do("POST", "/connect", e.secretA, []byte(`{"participantId":"x"}`)), 400, CodeBadRequest, "participantId2 is required")
	w := e.do("POST", "/createconferenceconnection", e.secretA, []byte(`{"sessionId":"`+txA+`"}`))
	if got := decodeBody[ConnectionResponse](t, w.Body.Bytes()); w.Code != 200 || got.ConnectionID != txA+"/9" {
		t.Fatalf("createconferenceconnection: %d %s", w.Code, w.Body)
	}
}

// Prompt files must decode; recordings and prompts are listed, fetched
// and deleted alike.
func TestPromptFiles(t *testing.T) {
	e := newEnv(t, WithMaxObjectBytes(64<<10))
	oct := []string{"Content-Type", "application/octet-stream"}
	w := e.do("PUT", "/promptfile/menu.wav", e.secretA, []byte("RIFF....WAVEnot really"), oct...)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "prompt file menu.wav") {
		t.Fatalf("broken WAV: %d %s", w.Code, w.Body)
	}
	w = e.do("PUT", "/promptfile/menu.wav", e.secretA, []byte("just text"), oct...)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "unknown audio format") {
		t.Fatalf("text: %d %s", w.Code, w.Body)
	}
	w = e.do("PUT", "/promptfile/menu.wav", e.secretA, testWAV(64<<10), oct...)
	wantError(t, w, 413, CodeResourceLimitExceeded, "prompt file of 131116 bytes is over the limit of 65536 bytes")
	wav := testWAV(1600)
	if w = e.do("PUT", "/promptfile/menu.wav", e.secretA, wav, oct...); w.Code != 200 {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	if pf := decodeBody[PromptFile](t, w.Body.Bytes()); pf.FileName != "menu.wav" || pf.Size != int64(len(wav)) {
		t.Fatalf("put answer %+v", pf)
	}
	w = e.do("GET", "/promptfile", e.secretA, nil)
	list := decodeBody[PromptFileList](t, w.Body.Bytes())
	if len(list.PromptFiles) != 2 || list.PromptFiles[0].FileName != "a-secret.wav" || list.PromptFiles[1].FileName != "menu.wav" {
		t.Fatalf("list %+v", list)
	}
	w = e.do("GET", "/promptfile/menu.wav", e.secretA, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "audio/wav" || w.Body.String() != string(wav) {
		t.Fatalf("get: %d %s (%d bytes)", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	if w = e.do("GET", "/promptfile", e.secretB, nil); strings.Contains(w.Body.String(), "menu.wav") {
		t.Fatalf("tenant b lists a's files: %s", w.Body)
	}
	if w = e.do("DELETE", "/promptfile/menu.wav", e.secretA, nil); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w = e.do("GET", "/promptfile/menu.wav", e.secretA, nil); w.Code != 404 {
		t.Fatalf("after delete: %d", w.Code)
	}
	if w = e.do("PUT", "/promptfile/..%2Fx.wav", e.secretA, wav, oct...); w.Code != 400 && w.Code != 404 {
		t.Fatalf("traversal: %d %s", w.Code, w.Body)
	}
}

// The tenant's key-value store: read what plugins keep, page through it.
func TestKVRoutes(t *testing.T) {
	e := newEnv(t)
	oct := []string{"Content-Type", "application/octet-stream"}
	for _, k := range []string{"iot/s1/AwithB/connectionId", "iot/s1/AwithB/replyId", "iot/s2/x"} {
		if w := e.do("PUT", "/kv/"+k, e.secretA, []byte("v-"+k), oct...); w.Code != 204 {
			t.Fatalf("put %s: %d %s", k, w.Code, w.Body)
		}
	}
	w := e.do("GET", "/kv/iot/s1/AwithB/replyId", e.secretA, nil)
	if w.Code != 200 || w.Body.String() != "v-iot/s1/AwithB/replyId" {
		t.Fatalf("get: %d %s", w.Code, w.Body)
	}
	w = e.do("GET", "/kv?prefix=iot/s1/&max-results=1", e.secretA, nil)
	page := decodeBody[KVList](t, w.Body.Bytes())
	if len(page.Entries) != 1 || page.Entries[0].Key != "iot/s1/AwithB/connectionId" || page.NextToken == "" {
		t.Fatalf("page 1 %+v", page)
	}
	w = e.do("GET", "/kv?prefix=iot/s1/&max-results=1&next-token="+page.NextToken, e.secretA, nil)
	page = decodeBody[KVList](t, w.Body.Bytes())
	if len(page.Entries) != 1 || page.Entries[0].Key != "iot/s1/AwithB/replyId" || page.NextToken != "" {
		t.Fatalf("page 2 %+v", page)
	}
	wantError(t, e.do("GET", "/kv?max-results=0", e.secretA, nil), 400, CodeBadRequest, `max-results "0": want 1..1000`)
	if w = e.do("GET", "/kv/iot/s1/AwithB/replyId", e.secretB, nil); w.Code != 404 {
		t.Fatalf("tenant b reads a's key: %d %s", w.Code, w.Body)
	}
	w = e.do("PUT", "/kv/big", e.secretA, make([]byte, e.kv.MaxValueBytes()+1), oct...)
	if w.Code != 413 {
		t.Fatalf("too large: %d %s", w.Code, w.Body)
	}
	w = e.do("PUT", "/kv/"+strings.Repeat("k", 300), e.secretA, []byte("v"), oct...)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "key too large") {
		t.Fatalf("long key: %d %s", w.Code, w.Body)
	}
	if w = e.do("DELETE", "/kv/iot/s2/x", e.secretA, nil); w.Code != 204 {
		t.Fatalf("delete: %d", w.Code)
	}
	if w = e.do("DELETE", "/kv/iot/s2/x", e.secretA, nil); w.Code != 404 {
		t.Fatalf("delete again: %d", w.Code)
	}
}

// An admin sets a tenant's dial policy; a bad one changes nothing.
func TestDialPolicyRoutes(t *testing.T) {
	e := newEnv(t)
	w := e.do("POST", "/tenants", e.admin, []byte(`{"TenantId":"tenant-c","DialPolicy":{"AllowedHosts":["bad host"]}}`))
	wantError(t, w, 400, CodeBadRequest, `dial policy: allowed host "bad host": want a host name, *.domain, an address or a CIDR network`)
	if _, err := e.reg.GetTenant("tenant-c"); err == nil {
		t.Fatal("a tenant was created with a refused dial policy")
	}
	w = e.do("POST", "/tenants", e.admin, []byte(`{"TenantId":"tenant-c","DialPolicy":{"AllowedHosts":["pbx.c.test"],"AllowedPrefixes":["+46"]}}`))
	if tr := decodeBody[TenantResponse](t, w.Body.Bytes()); w.Code != 201 || tr.Tenant.DialPolicy == nil || tr.Tenant.DialPolicy.AllowedPrefixes[0] != "+46" {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	w = e.do("PUT", "/tenants/"+tenantA+"/dial-policy", e.admin, []byte(`{"AllowedPrefixes":["+1555"]}`))
	if w.Code != 200 {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	if d, ok := e.reg.DialPolicy(tenantA); !ok || !d.AllowsNumber("+15550123") || d.AllowsNumber("+19005550123") {
		t.Fatalf("stored %+v %v", d, ok)
	}
	wantError(t, e.do("PUT", "/tenants/"+tenantA+"/dial-policy", e.admin, []byte(`{"AllowedPrefixes":["x"]}`)),
		400, CodeBadRequest, `dial policy: allowed prefix "x": want digits, optionally after a '+'`)
	if w = e.do("DELETE", "/tenants/"+tenantA+"/dial-policy", e.admin, nil); w.Code != 204 {
		t.Fatalf("delete: %d", w.Code)
	}
	if _, ok := e.reg.DialPolicy(tenantA); ok {
		t.Fatal("policy still set")
	}
	if w = e.do("PUT", "/tenants/nobody/dial-policy", e.admin, []byte(`{}`)); w.Code != 404 {
		t.Fatalf("unknown tenant: %d", w.Code)
	}
}
